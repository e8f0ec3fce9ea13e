import LatchCore
import LatchGateway
import LatchGrants
import LatchGuard
import LatchIdentity
import Testing

@testable import LatchServer

@Suite("ServerConfiguration from YAML")
struct ServerConfigurationTests {
    @Test("every key is read; unset keys keep their defaults")
    func everyKey() throws {
        let configuration = try ServerConfiguration(
            yaml: """
                trust_domain: prod.example.com
                data_dir: /var/lib/latch
                listen: 0.0.0.0:9443
                workload_api_socket: /run/latch/api.sock
                workload_api_socket_mode: "0770"
                issuer: https://latch.example.com
                database_url: postgres://latch@db/latch
                kek_file: /etc/latch/kek
                x509_ca_lifetime: 30d
                jwt_key_lifetime: 12h
                rotation_check_interval: 30s
                entry_poll_interval: 500ms
                bundle_refresh_hint: 5m
                jwt_clock_skew: 10s
                require_executable: true
                log_level: debug
                policies: /etc/latch/policies
                grant_lifetime: 2m
                grant_max_lifetime: 30m
                grant_max_depth: 5
                grant_audiences: mcp-gateway http-egress
                grant_sweep_interval: 5m
                federation:
                  - alias: github
                    issuer: https://token.actions.githubusercontent.com
                    audience: latch
                    jwks_url: https://token.actions.githubusercontent.com/.well-known/jwks
                    claims:
                      repository: repo
                upstreams:
                  - name: files
                    command: files-server
                    tools:
                      pay: {destination_argument: to, audit_arguments: [iban, amount]}
                      mail: {destination_argument: [to, cc, bcc]}
                upstream_refresh_interval: 5s
                tool_pinning: strict
                gateway_audience: tools
                gateway_keep_prompts: true
                gateway_keep_arguments: true
                http_apis:
                  - name: weather
                    base_url: https://api.weather.example
                guard_webhook: https://alerts.example.com/latch
                approval_ttl: 2m
                approval_max_pending: 3
                guard_rules:
                  - id: mail-burst
                    rate: {limit: 20, window: 1m}
                    tools: ["mail.*"]
                    action: deny
                    reason: rate_limit
                  - id: exfil
                    after: {sensitivity: restricted, outcome: allowed}
                    within: 10m
                    egress: external
                    action: kill
                  - id: new-tool
                    novelty: true
                    action: hold
                  - id: streak
                    denial_streak: 5
                    scope: agent
                    action: kill
                  - id: spend
                    budget: {argument: amount, limit: 5000.5}
                    tools: [payments.transfer]
                    action: deny
                  - id: fanout
                    delegations: 10
                    action: kill
                  - id: deep
                    delegation_depth: 2
                    action: deny
                    reason: too_deep
                  - id: payee
                    tainted_arguments: [untrusted, sensitive]
                    tools: [bank.send_money]
                    content: trusted
                    action: hold
                """)
        #expect(configuration.trustDomain.description == "prod.example.com")
        #expect(configuration.dataDirectory == "/var/lib/latch")
        #expect(try configuration.listenAddress() == ("0.0.0.0", 9443))
        #expect(configuration.resolvedWorkloadAPISocket == "/run/latch/api.sock")
        #expect(configuration.workloadAPISocketMode == 0o770)
        #expect(configuration.resolvedIssuer == "https://latch.example.com")
        #expect(configuration.databaseURL == "postgres://latch@db/latch")
        #expect(configuration.kekFile == "/etc/latch/kek")
        #expect(configuration.x509CALifetime == .seconds(30 * 86_400))
        #expect(configuration.jwtKeyLifetime == .seconds(12 * 3600))
        #expect(configuration.rotationCheckInterval == .seconds(30))
        #expect(configuration.entryPollInterval == .milliseconds(500))
        #expect(configuration.bundleRefreshHint == .seconds(300))
        #expect(configuration.jwtClockSkew == .seconds(10))
        #expect(configuration.requireExecutable)
        #expect(configuration.logLevel == "debug")
        #expect(configuration.policies == "/etc/latch/policies")
        #expect(configuration.grantLifetime == .seconds(120))
        #expect(configuration.grantMaxLifetime == .seconds(1800))
        #expect(configuration.grantMaxDepth == 5)
        #expect(configuration.grantAudiences == ["mcp-gateway", "http-egress"])
        #expect(configuration.grantSweepInterval == .seconds(300))
        #expect(configuration.federation.count == 1)
        #expect(configuration.federation.first?.alias == "github")
        #expect(configuration.federation.first?.issuerURL == "https://token.actions.githubusercontent.com")
        #expect(configuration.federation.first?.audience == "latch")
        #expect(configuration.federation.first?.claimMappings == ["repository": "repo"])
        #expect(configuration.upstreams.map(\.name) == ["files"])
        #expect(configuration.upstreamRefreshInterval == .seconds(5))
        #expect(configuration.toolPinning == .strict)
        #expect(configuration.gatewayAudience == "tools")
        #expect(configuration.gatewayKeepPrompts && configuration.gatewayKeepArguments)
        #expect(configuration.upstreams.first?.tools["pay"]?.auditArguments == ["iban", "amount"])
        #expect(configuration.upstreams.first?.tools["pay"]?.destinationArguments == ["to"])
        #expect(configuration.upstreams.first?.tools["mail"]?.destinationArguments == ["to", "cc", "bcc"])
        #expect(configuration.upstreams.first?.tools["pay"]?.recordedArguments == ["iban", "amount", "to"])
        #expect(configuration.httpAPIs.map(\.name) == ["weather"])
        #expect(configuration.guardRules.map(\.id) == ["mail-burst", "exfil", "new-tool", "streak", "spend", "fanout", "deep", "payee"])
        #expect(configuration.guardWebhook == "https://alerts.example.com/latch")
        #expect(
            configuration.guardRules.first
                == GuardRule(
                    id: "mail-burst", kind: .rate(limit: 20, window: 60_000), match: GuardMatch(tools: [try ToolPattern(parsing: "mail.*")]), action: .deny,
                    reason: "rate_limit"))
        #expect(
            configuration.guardRules[1]
                == GuardRule(
                    id: "exfil", kind: .sequence(after: GuardMatch(minSensitivity: 3, allowed: true), within: 600_000),
                    match: GuardMatch(minEgress: .external), action: .kill, reason: "exfil"))
        #expect(configuration.guardRules[2].scope == .agent, "novelty is per agent by default")
        #expect(configuration.guardRules[3].scope == .agent && configuration.guardRules[3].kind == .denialStreak(limit: 5))
        #expect(
            configuration.guardRules[4]
                == GuardRule(
                    id: "spend", kind: .budget(argument: "amount", limit: 5000.5), match: GuardMatch(tools: [try ToolPattern(parsing: "payments.transfer")]),
                    action: .deny, reason: "budget_exceeded"))
        #expect(configuration.guardRules[5] == GuardRule(id: "fanout", kind: .delegations(limit: 10), action: .kill, reason: "fanout_cap"))
        #expect(configuration.guardRules[6] == GuardRule(id: "deep", kind: .delegationDepth(limit: 2), action: .deny, reason: "too_deep"))
        #expect(configuration.guardRules[7].kind == .taintedArgument(sources: [.untrusted, .sensitive]) && configuration.guardRules[7].match.untrusted == false)
        #expect(configuration.approvalTTL == .seconds(120))
        #expect(configuration.approvalMaxPending == 3)
        #expect(ServerConfiguration.keys.count == 34)

        let defaults = try ServerConfiguration(yaml: "")
        #expect(defaults == ServerConfiguration.defaults)
        #expect(defaults.trustDomain.description == "latch.local")
        #expect(defaults.resolvedWorkloadAPISocket == "latch-data/public/workload.sock")
        #expect(defaults.databaseURL == "sqlite")
        #expect(defaults.toolPinning == .tofu, "trust on first use by default")
        #expect(defaults.approvalTTL == .seconds(600) && defaults.approvalMaxPending == 5)
    }

    @Test(
        "bad files are refused with the key named",
        arguments: [
            ("listen_adress: 1.2.3.4:5", "unknown configuration key \"listen_adress\""),
            ("trust_domain: Bad_Domain", "trust_domain"),
            ("rotation_check_interval: 10 parsecs", "rotation_check_interval must be a positive duration"),
            ("entry_poll_interval: 0s", "entry_poll_interval must be a positive duration"),
            ("grant_max_depth: 17", "grant_max_depth must be a whole number from 0 to 16"),
            ("approval_max_pending: 0", "approval_max_pending must be a whole number from 1 to 1000"),
            ("approval_ttl: forever", "approval_ttl must be a positive duration"),
            ("federation: {alias: a}", "federation must be a list of issuers"),
            ("federation: [{alias: a, issuer: https://i, audience: x}]", "needs alias, issuer, audience and jwks_url"),
            ("federation: [{alias: a, issuer: https://i, audience: x, jwks_url: http://example.com/k}]", "jwks_url must be https"),
            ("federation: [{alias: A!, issuer: https://i, audience: x, jwks_url: https://i/k}]", "alias must be lowercase"),
            ("federation: [{alias: a, issuer: https://i, audience: x, jwks_url: https://i/k, color: red}]", "unknown key"),
            ("workload_api_socket_mode: \"0999\"", "workload_api_socket_mode"),
            ("require_executable: yes please", "require_executable must be true or false"),
            ("log_level: loud", "log_level must be one of"),
            ("- a\n- b", "must be a YAML mapping"),
            ("listen: [1, 2]", "listen must be a string"),
            ("trust_domain: [unclosed", "not valid YAML"),
            ("upstreams: {name: a}", "upstreams must be a list"),
            ("upstreams: [{name: Files, command: x}]", "lowercase letters"),
            ("upstreams: [{name: a, command: x, url: http://h/mcp}]", "either command"),
            ("upstreams: [{name: a}]", "either command"),
            ("upstreams: [{name: a, command: x}, {name: a, url: http://h/mcp}]", "used twice"),
            ("upstreams: [{name: a, url: ftp://h/mcp}]", "url must be http"),
            ("upstreams: [{name: a, url: http://h/mcp, env: {A: b}}]", "args and env are for command upstreams"),
            ("upstreams: [{name: a, command: x, tools: {t: {sensitivity: secret}}}]", "sensitivity must be public"),
            ("upstreams: [{name: a, command: x, tools: {t: {egress: outside}}}]", "egress must be none"),
            ("upstreams: [{name: a, command: x, labels: {colour: red}}]", "unknown label"),
            ("upstreams: [{name: a, command: x, call_timeout: soon}]", "call_timeout must be a positive duration"),
            ("upstreams: [{name: a, command: x, retries: 3}]", "unknown key \"retries\""),
            ("upstreams: [{name: a, url: http://h/mcp, headers: {Mcp-Session-Id: x}}]", "cannot be configured"),
            ("upstreams: [{name: a, url: http://h/mcp, headers: {accept: text/html}}]", "cannot be configured"),
            ("upstreams: [{name: a, url: http://h/mcp, headers: {\"X Key\": v}}]", "not a valid HTTP field name"),
            ("gateway_keep_prompts: maybe", "gateway_keep_prompts must be true or false"),
            ("gateway_keep_arguments: yes please", "gateway_keep_arguments must be true or false"),
            ("upstreams: [{name: a, command: x, tools: {t: {audit_arguments: iban}}}]", "audit_arguments must be a list of strings"),
            ("upstreams: [{name: a, command: x, tools: {t: {destination_argument: [to, to]}}}]", "list of distinct argument names"),
            ("http_apis: {name: a}", "http_apis must be a list"),
            ("http_apis: [{name: A, base_url: https://h}]", "lowercase letters"),
            ("http_apis: [{name: a}]", "base_url is required"),
            ("http_apis: [{name: a, base_url: ftp://h}]", "base_url must be an http"),
            ("http_apis: [{name: a, base_url: https://user@h/x}]", "no user info"),
            ("http_apis: [{name: a, base_url: https://h/x?key=1}]", "base_url must be an http"),
            ("http_apis: [{name: a, base_url: https://h}, {name: a, base_url: https://i}]", "used twice"),
            ("http_apis: [{name: a, base_url: https://h, headers: {\"X Key\": v}}]", "not a valid HTTP field name"),
            ("http_apis: [{name: a, base_url: https://h, headers: {Host: evil.test}}]", "cannot be configured"),
            ("http_apis: [{name: a, base_url: https://h, labels: {destination_argument: to}}]", "unknown label"),
            ("http_apis: [{name: a, base_url: https://h, labels: {side_effects: some}}]", "side_effects must be"),
            ("http_apis: [{name: a, base_url: https://h, call_timeout: never}]", "call_timeout must be a positive duration"),
            ("http_apis: [{name: a, base_url: https://h, method: GET}]", "unknown key \"method\""),
            ("http_apis: [{name: files, base_url: https://h}]\nupstreams: [{name: files, command: x}]", "already an upstream's"),
            ("tool_pinning: never", "tool_pinning must be tofu or strict"),
            ("guard_rules: {id: a}", "guard_rules must be a list"),
            ("guard_webhook: ftp://alerts.example.com", "guard_webhook must be an http"),
            ("guard_webhook: https://user:pw@alerts.example.com", "guard_webhook must be an http"),
            ("guard_rules: [{id: a, action: deny}]", "exactly one of"),
            ("guard_rules: [{id: a, novelty: true, denial_streak: 3, action: hold}]", "exactly one of"),
            ("guard_rules: [{id: a, rate: {limit: 3}, action: deny}]", "rate must be"),
            ("guard_rules: [{id: a, rate: {limit: 0, window: 1m}, action: deny}]", "limit from 1"),
            ("guard_rules: [{id: a, denial_streak: 3, action: explode}]", "action must be hold, deny or kill"),
            ("guard_rules: [{id: a, novelty: true, action: deny}]", "holds (action: hold)"),
            ("guard_rules: [{id: a, denial_streak: 3, within: 1m, action: deny}]", "within goes with after"),
            ("guard_rules: [{id: a, after: {colour: red}, action: deny}]", "unknown condition"),
            ("guard_rules: [{id: a, after: {}, tools: [\"a*b\"], action: deny}]", "tool pattern"),
            ("guard_rules: [{id: a, denial_streak: 3, action: deny}, {id: a, denial_streak: 4, action: deny}]", "unique"),
            ("guard_rules: [{id: a, tainted_arguments: [gossip], action: hold}]", "untrusted and/or sensitive"),
            ("guard_rules: [{id: a, budget: {argument: amount}, action: deny}]", "budget must be"),
            ("guard_rules: [{id: a, budget: {argument: amount, limit: lots}, action: deny}]", "budget must be"),
            ("guard_rules: [{id: a, delegations: -1, action: deny}]", "delegations must be a number"),
            ("guard_rules: [{id: a, delegations: 3, action: hold}]", "cannot wait for approval"),
            ("guard_rules: [{id: a, delegation_depth: 2, tools: [x], action: deny}]", "takes no tools"),
            ("guard_rules: [{id: a, denial_streak: 3, action: deny, reason: Bad-Code}]", "reason must be"),
            ("guard_rules: [{id: a, denial_streak: 3, action: deny, colour: red}]", "unknown key"),
        ])
    func badFiles(yaml: String, message: String) {
        #expect(throws: LatchError.self) { try ServerConfiguration(yaml: yaml) }
        do {
            _ = try ServerConfiguration(yaml: yaml)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("http_apis: base URL, credential headers, timeout and labels, egress external by default")
    func httpAPIs() throws {
        let configuration = try ServerConfiguration(
            yaml: """
                http_apis:
                  - name: weather
                    base_url: https://API.weather.example/v2/
                    headers: {X-API-Key: "${secret:weather_key}"}
                    call_timeout: 5s
                    labels: {sensitivity: public, data_domain: weather}
                  - name: billing
                    base_url: http://127.0.0.1:9200
                    labels: {egress: internal, side_effects: write}
                """)
        #expect(configuration.httpAPIs.map(\.name) == ["weather", "billing"])
        let weather = try #require(configuration.httpAPIs.first)
        #expect(weather.baseURL == "https://API.weather.example/v2")
        #expect(weather.host == "api.weather.example")
        #expect(weather.headers == ["X-API-Key": "${secret:weather_key}"])
        #expect(weather.callTimeout == .seconds(5))
        #expect(weather.labels == ToolLabels(sensitivity: .public, dataDomain: "weather", egress: .external))
        let billing = try #require(configuration.httpAPIs.last)
        #expect(billing.labels.egress == .internal && billing.callTimeout == .seconds(30) && billing.headers.isEmpty)
        #expect(billing.labels(for: .read).sideEffects == .write, "a configured side effect raises a read's")
        #expect(billing.labels(for: .delete).sideEffects == .destructive, "and never lowers a delete's")
    }

    @Test("upstreams: stdio and HTTP servers with their credentials and the labels of their tools")
    func upstreams() throws {
        let configuration = try ServerConfiguration(
            yaml: """
                gateway_audience: tools
                gateway_keep_prompts: true
                upstreams:
                  - name: files
                    command: python3
                    args: [server.py, --transport, stdio]
                    env: {TOKEN: "${secret:files}"}
                    labels: {sensitivity: internal}
                    tools:
                      read_file: {sensitivity: restricted, data_domain: hr}
                  - name: mail
                    url: http://127.0.0.1:9/mcp
                    headers: {Authorization: "Bearer ${secret:mail}"}
                    call_timeout: 5s
                    tools:
                      send_email: {egress: external, side_effects: write, destination_argument: to, sensitivity: public}
                """)
        #expect(configuration.gatewayAudience == "tools" && configuration.gatewayKeepPrompts)
        let files = try #require(configuration.upstreams.first)
        #expect(files.transport == .stdio(command: "python3", arguments: ["server.py", "--transport", "stdio"], environment: ["TOKEN": "${secret:files}"]))
        #expect(files.labels(for: "read_file") == ToolLabels(sensitivity: .restricted, dataDomain: "hr"))
        #expect(files.labels(for: "list_files") == ToolLabels(sensitivity: .internal))
        let mail = try #require(configuration.upstreams.last)
        #expect(mail.transport == .http(url: "http://127.0.0.1:9/mcp", headers: ["Authorization": "Bearer ${secret:mail}"]))
        #expect(mail.callTimeout == .seconds(5))
        #expect(mail.labels(for: "send_email") == ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write, destinationArgument: "to"))
        #expect(mail.labels(for: "delete_all") == nil, "an unlabelled tool of an upstream without default labels is not served")
    }

    @Test("durations", arguments: [("500ms", 500), ("10s", 10_000), ("5m", 300_000), ("2h", 7_200_000), ("7d", 604_800_000), ("42", 42_000)])
    func durations(text: String, milliseconds: Int64) {
        #expect(ServerConfiguration.parseDuration(text) == .milliseconds(milliseconds))
    }

    @Test("listen must be host:port", arguments: ["localhost", ":80", "host:99999", "host:http"])
    func badListen(listen: String) {
        var configuration = ServerConfiguration.defaults
        configuration.listen = listen
        #expect(throws: LatchError.self) { try configuration.listenAddress() }
    }
}
