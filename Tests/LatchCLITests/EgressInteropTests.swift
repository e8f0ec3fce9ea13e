import Foundation
import LatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// HTTP egress end to end: the scripted agent (`Tests/Interop/mcp_agent.py`, raw steps with a
/// grant and DPoP proofs) calls a plain HTTP API (`Tests/Interop/http_api.py`, which wants a
/// static `X-API-Key`) through `latch serve`'s `/egress/weather/…`, which decides each request as
/// a tool call and injects the key from the sealed secret store.
@Suite("HTTP egress through latch serve", .serialized)
struct EgressInteropTests {
    static let trustDomain = "egress.test"
    static let agent = "spiffe://egress.test/agents/forecaster"
    static let apiKey = "weather-key-5f3a"

    struct Gateway {
        let directory: TemporaryDirectory
        let server: ServerProcess
        let api: HTTPUpstreamServer
        let data: String
        let config: String

        func latch(_ arguments: [String], stdin: String? = nil) async throws -> LatchProcess.Result {
            try await LatchProcess.run(arguments + ["--config", self.config, "--data-dir", self.data], in: self.directory, stdin: stdin)
        }

        /// Runs the scripted agent with a fresh grant of `scope`; one JSON object per step.
        func agent(_ steps: String, scope: String) async throws -> [[String: Any]] {
            let script = try self.directory.write("steps-\(UUID().uuidString).json", steps)
            let result = try await LatchProcess.run(
                [
                    InteropPython.script("mcp_agent.py"), "--mcp", self.server.http + "/mcp", "--protocol", "2026-07-28", "--socket",
                    self.server.socket,
                    "--http", self.server.http, "--agent", EgressInteropTests.agent, "--scope", scope, "--script", script,
                ],
                in: self.directory, executable: URL(fileURLWithPath: try InteropPython.interpreter()))
            try #require(result.status == 0, "mcp_agent.py failed: \(result.stderr)\nserver log:\n\(self.server.log)")
            return result.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// Every decision record, newest first.
        func records() async throws -> [[String: Any]] {
            let listed = try await self.latch(["audit", "list", "--json", "--limit", "1000"])
            try #require(listed.status == 0, "\(listed.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        }
    }

    /// Starts the API (it wants `X-API-Key: weather-key-5f3a`), stores the key as secret
    /// `weather_key`, registers the agent and starts `latch serve` with the API as `weather`.
    static func start() async throws -> Gateway {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let api = try await HTTPUpstreamServer.start(
            script: InteropScripts.script("http_api.py"), arguments: ["--require-key", "WEATHER_EXPECTED"],
            environment: ["WEATHER_EXPECTED": Self.apiKey])
        let policies = directory.url.appendingPathComponent("policies").path
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: InteropPython.repoRoot.appendingPathComponent("Examples/gateway/policies.cedar").path, toPath: policies + "/gateway.cedar")
        try directory.write(
            "policies/egress.cedar",
            """
            @id("weather-admin-off-limits")
            forbid (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"weather.read")
            when { context.http.path like "/admin*" };
            """)
        try directory.write(
            "latch.yaml",
            """
            trust_domain: \(Self.trustDomain)
            listen: 127.0.0.1:0
            policies: \(policies)
            upstream_refresh_interval: 1s
            gateway_keep_arguments: true
            http_apis:
              - name: weather
                base_url: http://127.0.0.1:\(api.port)/api/
                headers: {X-API-Key: "${secret:weather_key}"}
                call_timeout: 2s
                labels: {sensitivity: public, data_domain: weather}
            """)
        let config = directory.url.appendingPathComponent("latch.yaml").path
        let created = try await LatchProcess.run(
            [
                "entry", "create", "--config", config, "--data-dir", data, "--spiffe-id", Self.agent, "--selector", "unix:uid:\(getuid())",
                "--attribute", "team=interop",
            ],
            in: directory)
        try #require(created.status == 0, "entry create failed: \(created.stderr)")
        let set = try await LatchProcess.run(["secret", "set", "weather_key", "--config", config, "--data-dir", data], in: directory, stdin: Self.apiKey)
        try #require(set.status == 0, "secret set failed: \(set.stderr)")
        let server = try await ServerProcess(
            ["--config", config, "--data-dir", data, "--workload-api-socket", directory.url.appendingPathComponent("run/api.sock").path],
            in: directory)
        let gateway = Gateway(directory: directory, server: server, api: api, data: data, config: config)
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while !server.log.contains("HTTP API credential ready") {
            guard ContinuousClock.now < deadline else { throw ServerProcess.ServerFailed(description: "no credential rendered:\n\(server.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        return gateway
    }

    static func body(_ step: [String: Any]) -> [String: Any] { ((step["result"] as? [String: Any])?["body"] as? [String: Any]) ?? [:] }
    static func headers(_ step: [String: Any]) -> [String: String] { ((step["result"] as? [String: Any])?["headers"] as? [String: String]) ?? [:] }
    static func reason(_ step: [String: Any]) -> String? { Self.body(step)["reason"] as? String }

    @Test("requests are decided as tool calls, forwarded with the key the agent never holds, refused without a valid proof, and each is recorded")
    func endToEnd() async throws {
        let gateway = try await Self.start()
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let steps = try await gateway.agent(
            """
            [{"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast?city=Paris&days=2",
              "headers": {"Cookie": "agent-session=1", "X-API-Key": "agent-guess", "traceparent": "\(parent)", "X-Request-Note": "hello"}},
             {"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast?city=Paris&days=2", "auth": "replay"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast", "auth": "no_proof"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast", "auth": "wrong_htu"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast", "auth": "bearer"},
             {"op": "raw", "method": "POST", "path": "/egress/weather/v1/reports", "body": {"city": "Paris"}},
             {"op": "raw", "method": "DELETE", "path": "/egress/weather/v1/reports/7"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/admin/keys"},
             {"op": "raw", "method": "GET", "path": "/egress/nowhere/v1"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/%2e%2e/secret"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/status/503"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/redirect"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/slow/5"},
             {"op": "raw", "method": "HEAD", "path": "/egress/weather/v1/forecast"},
             {"op": "raw", "method": "OPTIONS", "path": "/egress/weather/v1/forecast"},
             {"op": "raw", "method": "GET", "path": "/egress/weather/big/17000000"}]
            """, scope: "tool:weather.read domain:weather sensitivity:internal")
        try #require(steps.count == 16, "\(steps)")

        // Allowed: the API answered, having seen Latch's key; the agent's credentials stayed behind.
        #expect(steps[0]["http_status"] as? Int == 200, "\(steps[0])\n\(gateway.server.log)")
        let echo = Self.body(steps[0])
        #expect(echo["key"] as? String == "matched" && echo["method"] as? String == "GET", "\(echo)")
        #expect(echo["path"] as? String == "/api/v1/forecast" && echo["query"] as? String == "city=Paris&days=2", "\(echo)")
        let seen = echo["headers"] as? [String: String] ?? [:]
        for header in ["authorization", "dpop", "cookie", "accept-encoding"] {
            #expect(seen[header] == nil, "\(header) reached the API: \(seen)")
        }
        #expect(seen["x-api-key"] == "[matched]" && seen["x-request-note"] == "hello", "\(seen)")
        let traceparent = try #require(seen["traceparent"])
        #expect(
            traceparent.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && traceparent != parent,
            "a child span of the agent's trace: \(traceparent)")
        #expect(!"\(steps[0])".contains(Self.apiKey), "the agent never sees the key")
        #expect(Self.headers(steps[0])["set-cookie"] == nil, "the API's cookies stay behind")
        let decision = try #require(Self.headers(steps[0])["latch-decision-id"])

        // Refused before any decision: a replayed proof, none, one for another URL, a bearer grant.
        for index in 1...4 {
            #expect(steps[index]["http_status"] as? Int == 401, "\(index): \(steps[index])")
            #expect(Self.headers(steps[index])["www-authenticate"]?.hasPrefix("DPoP ") == true, "\(index): \(steps[index])")
        }
        #expect(Self.headers(steps[1])["www-authenticate"]?.contains("invalid_dpop_proof") == true, "\(steps[1])")
        #expect(
            Self.headers(steps[2])["www-authenticate"]?.contains(
                "resource_metadata=\"\(gateway.server.http)/.well-known/oauth-protected-resource/egress/weather\"") == true)

        // Denied: writes and deletes are not in a read grant, the admin path is forbidden by policy.
        #expect(steps[5]["http_status"] as? Int == 403 && Self.reason(steps[5]) == "tool_not_in_grant", "\(steps[5])")
        #expect(Self.body(steps[5])["error"] as? String == "denied" && (Self.body(steps[5])["decision_id"] as? String)?.count == 26)
        #expect(steps[6]["http_status"] as? Int == 403 && Self.reason(steps[6]) == "tool_not_in_grant", "\(steps[6])")
        #expect(steps[7]["http_status"] as? Int == 403 && Self.reason(steps[7]) == "policy_denied", "\(steps[7])")
        #expect(Self.body(steps[7])["policies"] as? [String] == ["weather-admin-off-limits"])
        #expect(steps[8]["http_status"] as? Int == 404 && Self.reason(steps[8]) == "unknown_tool", "\(steps[8])")
        #expect(steps[9]["http_status"] as? Int == 400 && Self.reason(steps[9]) == "invalid_arguments", "\(steps[9])")
        // The API's own answers pass through; a redirect is not followed; a slow API times out.
        #expect(steps[10]["http_status"] as? Int == 503 && Self.body(steps[10])["key"] as? String == "matched", "\(steps[10])")
        #expect(steps[11]["http_status"] as? Int == 302 && Self.headers(steps[11])["location"] == nil, "\(steps[11])")
        #expect(steps[12]["http_status"] as? Int == 504 && Self.reason(steps[12]) == "upstream_unavailable", "\(steps[12])")
        #expect(steps[13]["http_status"] as? Int == 200, "HEAD: \(steps[13])")
        #expect(steps[14]["http_status"] as? Int == 405, "OPTIONS is not forwarded: \(steps[14])")
        #expect(steps[15]["http_status"] as? Int == 502 && Self.reason(steps[15]) == "upstream_unavailable", "over 16 MiB: \(steps[15])")

        // Every authenticated request is decided on record (not the five refused before a
        // decision); a forwarded one has a second record, its outcome, naming its decision.
        // (Sorted: two records of one millisecond are ordered by their random IDs.)
        let records = try await gateway.records()
        let decisions = records.filter { $0["decision_id"] == nil }
        let outcomes = records.filter { $0["decision_id"] != nil }
        #expect(
            decisions.map { $0["tool"] as? String ?? "" }.sorted() == ["nowhere.read", "weather.delete"] + Array(repeating: "weather.read", count: 8)
                + ["weather.write"], "\(records)")
        let reasons = decisions.compactMap { $0["reason"] as? String }.sorted()
        #expect(reasons == ["invalid_arguments", "policy_denied", "tool_not_in_grant", "tool_not_in_grant", "unknown_tool"], "\(records)")
        #expect(
            outcomes.compactMap { $0["upstream"] as? String }.sorted() == ["http_302", "http_503", "ok", "ok", "unavailable", "unavailable"],
            "\(records)")
        let forwarded = Set(decisions.filter { $0["upstream"] as? String == "forwarded" }.compactMap { $0["id"] as? String })
        #expect(forwarded.count == 6 && Set(outcomes.compactMap { $0["decision_id"] as? String }) == forwarded)
        #expect(records.allSatisfy { $0["method"] as? String == "http" && ($0["arguments_hmac"] as? String)?.count == 64 })
        // The path is an argument: matched by keyed hash, sealed (arguments are kept here), never in
        // clear, not even in the decision's facts (which keep the method only).
        #expect(records.allSatisfy { (($0["argument_hmacs"] as? [String: Any])?["path"] as? String)?.count == 64 }, "\(records)")
        let policyDecisions = decisions.filter { $0["reason"] == nil || $0["reason"] as? String == "policy_denied" }
        #expect(
            policyDecisions.allSatisfy { (($0["facts"] as? [String: Any])?["http"] as? [String: Any])?.keys.sorted() == ["method"] },
            "\(policyDecisions)")
        #expect(decisions.allSatisfy { $0["arguments_sealed"] is String }, "\(decisions)")
        let recordText = String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self)
            .replacingOccurrences(of: "\\/", with: "/")
        #expect(!recordText.contains("/v1/") && !recordText.contains("/admin"), "\(recordText)")
        #expect(outcomes.allSatisfy { $0["facts"] == nil })

        // Replayed under the live policies nothing changes; under one forbidding forecasts, the
        // allowed forecast reads would have been denied (the paths read from the sealed arguments).
        let since = ["--since", "1970-01-01T00:00:00Z", "--json"]
        let same = try await gateway.latch(["policy", "replay", "--policies", gateway.directory.url.appendingPathComponent("policies").path] + since)
        try #require(same.status == 0, "\(same.stderr)")
        let sameSummary = try #require(JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])["summary"] as? [String: Int]
        #expect(sameSummary?["replayed"] == policyDecisions.count && sameSummary?["changed"] == 0 && sameSummary?["undecidable"] == 0, "\(same.stdout)")
        let strictPolicies = try gateway.directory.write(
            "strict.cedar",
            """
            @id("all") permit (principal, action, resource);
            @id("admin") forbid (principal, action, resource == Latch::Tool::"weather.read") when { context.http.path like "/admin*" };
            @id("no-forecasts") forbid (principal, action, resource == Latch::Tool::"weather.read") when { context.http.path like "/v1/forecast*" };
            """)
        let strict = try await gateway.latch(["policy", "replay", "--policies", strictPolicies] + since)
        try #require(strict.status == 0, "\(strict.stderr)")
        let changes = try #require(JSONSerialization.jsonObject(with: Data(strict.stdout.utf8)) as? [String: Any])["changes"] as? [[String: Any]]
        #expect(changes?.isEmpty == false, "\(strict.stdout)")
        #expect(
            changes?.allSatisfy {
                $0["tool"] as? String == "weather.read" && $0["new"] as? String == "deny" && $0["policies"] as? [String] == ["no-forecasts"]
            } == true, "\(strict.stdout)")
        let first = try #require(decisions.first { $0["id"] as? String == decision })
        #expect(
            first["allowed"] as? Bool == true && first["destination"] as? String == "127.0.0.1"
                && first["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        let firstOutcome = try #require(outcomes.first { $0["decision_id"] as? String == decision })
        #expect(firstOutcome["upstream"] as? String == "ok")

        // A grant with writes: the body goes through; an oversized one is refused on record.
        let big = String(repeating: "x", count: 1_100_000)
        let writes = try await gateway.agent(
            """
            [{"op": "raw", "method": "POST", "path": "/egress/weather/v1/reports?draft=1", "body": {"city": "Paris", "rain": true}},
             {"op": "raw", "method": "PUT", "path": "/egress/weather/v1/reports/7", "body": "\(big)"}]
            """, scope: "tool:weather.write domain:weather sensitivity:internal")
        #expect(writes[0]["http_status"] as? Int == 200, "\(writes[0])")
        #expect(Self.body(writes[0])["method"] as? String == "POST" && Self.body(writes[0])["body"] as? String == #"{"city": "Paris", "rain": true}"#)
        #expect(writes[1]["http_status"] as? Int == 413 && Self.reason(writes[1]) == "invalid_arguments", "\(writes[1])")

        // The key deleted from the secret store: calls are denied, and recorded.
        let deleted = try await gateway.latch(["secret", "delete", "weather_key"])
        try #require(deleted.status == 0, "\(deleted.stderr)")
        var denied: [String: Any]?
        for _ in 0..<40 where denied == nil {
            let step = try await gateway.agent(
                #"[{"op": "raw", "method": "GET", "path": "/egress/weather/v1/forecast"}]"#, scope: "tool:weather.read domain:weather")
            if Self.reason(step[0]) == "credential_unavailable" { denied = step[0] } else { try await Task.sleep(for: .milliseconds(250)) }
        }
        let deniedDecision = try #require(denied.flatMap { Self.body($0)["decision_id"] as? String }, "no credential_unavailable denial")
        #expect(denied?["http_status"] as? Int == 403)
        await #expect(try gateway.records().contains { $0["id"] as? String == deniedDecision && $0["reason"] as? String == "credential_unavailable" })

        #expect(gateway.server.stop() == 0)
        #expect(!gateway.server.log.contains(Self.apiKey), "no credential may be logged")
        #expect(!gateway.server.log.contains("eyJ"), "no token may be logged")
    }
}
