import CedarPolicy
import Crypto
import Foundation
import LatchAudit
import LatchCore
import LatchGrants
import LatchGuard
import LatchIdentity
import LatchSQLite
import LatchTesting
import Logging
import Yams

@testable import LatchGateway
@testable import LatchServer

/// Everything one run of a scenario needs, real except the upstream: a SQLite store in a temp
/// directory (grants, records and the ledger, approvals, tool pins), the grant authority with the
/// scenario's grant policies (token exchange with JWT-SVIDs and DPoP), and the MCP gateway with the
/// scenario's Cedar policies, guard rules (parsed by the configuration's parser) and tool labels.
final class ScenarioHarness {
    static let base = "https://latch.test"
    static let tokenEndpoint = DPoPRequest(method: "POST", uri: base + "/token")

    /// A grant an agent holds: the token and the key it is bound to.
    struct Held {
        var token: String
        var grant: TaskGrant
        var agent: String
    }

    let scenario: Scenario
    let directory: String
    let store: SQLiteIdentityStore
    let clock = TestWallClock()
    let signingKey: CAKey
    let authority: GrantAuthority
    let gateway: MCPGateway
    let backends: [String: CannedBackend]
    let labels: [String: ToolLabels]
    let pinning: ToolPinningMode
    var grants: [String: Held] = [:]
    private var agentKeys: [String: P256.Signing.PrivateKey] = [:]

    /// `render` fills in a tool description's `{{injection}}` (a poisoned description carries it).
    init(_ scenario: Scenario, render: (String) -> String) async throws {
        self.scenario = scenario
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(scenario.id)-\(UUID().uuidString)").path
        self.store = try SQLiteIdentityStore(dataDirectory: self.directory)
        self.clock.set(UnixTime(milliseconds: ProofBuilder.now))
        self.signingKey = TestKeys.jwtKey(now: ProofBuilder.now - 1000, lifetime: 7 * 86_400_000)
        let settings = scenario.settings

        var grantSettings = GrantSettings()
        if let lifetime = settings["grant_max_lifetime_seconds"]?.intValue { grantSettings.maxLifetime = lifetime * 1000 }
        if let depth = settings["grant_max_depth"]?.intValue { grantSettings.delegation = DelegationPolicy(maxDepth: Int(depth)) }
        let attributes = Self.attributes(scenario)
        let decider = CedarGrantDecider(authorizer: Authorizer(try Self.policySet(scenario.grantPolicies)), attributes: attributes)
        self.authority = GrantAuthority(
            settings: grantSettings, repository: self.store, decider: decider, clock: self.clock, quarantineStore: self.store)
        self.authority.setKeys(
            issuer: Self.base, signingKey: self.signingKey,
            svidValidator: JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [self.signingKey.keyID: self.signingKey.publicKey]))

        var backends: [String: CannedBackend] = [:]
        var labels: [String: ToolLabels] = [:]
        for tool in scenario.tools {
            guard let dot = tool.name.firstIndex(of: ".") else { throw ScenarioError("\(scenario.id): tool \(tool.name) must be upstream.tool") }
            let upstream = String(tool.name[..<dot])
            let backend = backends[upstream] ?? CannedBackend(name: upstream)
            backends[upstream] = backend
            backend.define(tool: String(tool.name[tool.name.index(after: dot)...]), description: render(tool.description), schema: tool.schema)
            labels[tool.name] =
                try tool.labels.map { node throws(LatchError) in
                    try ServerConfiguration.parseLabels(node) { LatchError(.configuration, "\(scenario.id) tool \(tool.name): \($0)") }
                } ?? ToolLabels()
        }
        self.backends = backends
        self.labels = labels
        self.pinning = settings["tool_pinning"]?.stringValue.flatMap(ToolPinningMode.init(rawValue:)) ?? .tofu

        var gatewaySettings = MCPGatewaySettings()
        if let rules = scenario.guardRules { gatewaySettings.guardRules = try GuardRules(try ServerConfiguration.parseGuardRules(rules)) }
        gatewaySettings.approvals = self.store
        if let ttl = settings["approval_ttl_seconds"]?.intValue { gatewaySettings.approvalTTL = ttl * 1000 }
        if let pending = settings["approval_max_pending"]?.intValue { gatewaySettings.approvalMaxPending = Int(pending) }
        let policy = ToolCallPolicy(policies: try Self.policySet(scenario.policies), attributes: attributes)
        self.gateway = MCPGateway(
            settings: gatewaySettings, baseURL: { ScenarioHarness.base }, authority: self.authority,
            snapshot: MCPGateway.Snapshot(catalog: ToolCatalog([]), upstreams: backends, policy: policy),
            recorder: StoreDecisionRecorder(repository: self.store, ledgerKey: TestKeys.ledgerKey), valueKey: TestKeys.ledgerKey.valueKey,
            clock: self.clock, logger: Logger(label: "scenario") { _ in SwiftLogNoOpLogHandler() })
        // As `latch serve` wires it: the guard's delegation rules screen token exchanges.
        if gatewaySettings.guardRules?.screensDelegations == true { self.authority.setDelegationGuard(self.gateway) }
        try await self.refreshTools()
    }

    func close() {
        try? self.store.close()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    static func policySet(_ text: String) throws -> PolicySet {
        var policies = PolicySet()
        for var policy in try CedarParser.parsePolicies(text) {
            policy.id = policy.annotation("id") ?? policy.id
            try policies.add(policy)
        }
        return policies
    }

    /// The scenario's agents' registration attributes (strings, integers, booleans, lists of strings).
    static func attributes(_ scenario: Scenario) -> @Sendable (SPIFFEID) -> [String: EntryAttribute] {
        var byID: [String: [String: EntryAttribute]] = [:]
        for (name, fields) in scenario.agents {
            var attributes: [String: EntryAttribute] = [:]
            for (key, value) in fields.objectValue ?? [:] {
                switch value {
                case .string(let text): attributes[key] = .string(text)
                case .int(let number): attributes[key] = .long(number)
                case .bool(let flag): attributes[key] = .bool(flag)
                case .array(let items): attributes[key] = .strings(items.compactMap(\.stringValue))
                default: continue
                }
            }
            byID[Self.agentID(name).description] = attributes
        }
        return { [byID] in byID[$0.description] ?? [:] }
    }

    static func agentID(_ name: String) -> SPIFFEID {
        (try? SPIFFEID(parsing: "spiffe://example.org/agents/" + name)) ?? { fatalError("agent names are path segments") }()
    }

    /// The agent's DPoP key, fixed per scenario and agent name.
    func key(_ agent: String) -> P256.Signing.PrivateKey {
        if let key = self.agentKeys[agent] { return key }
        let key = TestKeys.p256("\(self.scenario.id)/\(agent)")
        self.agentKeys[agent] = key
        return key
    }

    var now: Int64 { self.clock.now().milliseconds }

    /// A DPoP proof by `key` for `uri`, over `token` when given, issued now.
    func proof(_ key: P256.Signing.PrivateKey, uri: String, token: String?) throws -> String {
        var builder = ProofBuilder(jti: UUID().uuidString, method: "POST", uri: uri, iat: self.now / 1000)
        builder.key = key
        builder.header["jwk"] = ProofBuilder.jwk(key.publicKey)
        if let token { builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8))))) }
        return try builder.build()
    }

    func svid(_ agent: String) throws -> String {
        try JWTSVIDMinter.sign(spiffeID: Self.agentID(agent), audience: [Self.base], ttl: 300_000, now: self.now, key: self.signingKey).token
    }

    /// The `scope` parameter of a grant step: `tools`, `domains`, `destinations`, `sensitivity`.
    static func scope(_ step: JSONValue) -> String? {
        var items: [String] = []
        for tool in step["tools"]?.arrayValue ?? [] { items.append("tool:" + (tool.stringValue ?? "")) }
        for domain in step["domains"]?.arrayValue ?? [] { items.append("domain:" + (domain.stringValue ?? "")) }
        for destination in step["destinations"]?.arrayValue ?? [] { items.append("destination:" + (destination.stringValue ?? "")) }
        // `internal` unless the step says otherwise (a scope without one allows only public data).
        items.append("sensitivity:" + (step["sensitivity"]?.stringValue ?? "internal"))
        return step["tools"] == nil && step["sensitivity"] == nil && step["domains"] == nil && step["destinations"] == nil
            ? nil : items.joined(separator: " ")
    }

    /// A new task grant by token exchange: the agent's JWT-SVID and its DPoP proof.
    func issue(agent: String, step: JSONValue) async throws(TokenExchangeError) -> Held {
        var form: [(name: String, value: String)] = [
            ("grant_type", TokenExchangeRequest.grantType), ("subject_token_type", TokenExchangeRequest.jwtTokenType),
            ("intent", step["intent"]?.stringValue ?? self.scenario.prompt),
        ]
        do { form.append(("subject_token", try self.svid(agent))) } catch { throw TokenExchangeError(.serverError, "fixture: \(error)") }
        if let scope = Self.scope(step) { form.append(("scope", scope)) }
        if let ttl = step["ttl"]?.intValue { form.append(("requested_lifetime", String(ttl))) }
        let proof: String
        do { proof = try self.proof(self.key(agent), uri: Self.tokenEndpoint.uri, token: nil) } catch {
            throw TokenExchangeError(.serverError, "fixture: \(error)")
        }
        let issued = try await self.authority.exchange(try TokenExchangeRequest(form: form), proof: proof, proofTarget: Self.tokenEndpoint)
        return Held(token: issued.token, grant: issued.grant, agent: agent)
    }

    /// A delegated grant: `parent`'s holder hands it to `agent` (RFC 8693, actor token and both proofs).
    func delegate(_ parent: Held, to agent: String, step: JSONValue) async throws(TokenExchangeError) -> Held {
        var form: [(name: String, value: String)] = [
            ("grant_type", TokenExchangeRequest.grantType), ("subject_token", parent.token),
            ("subject_token_type", TokenExchangeRequest.accessTokenType), ("actor_token_type", TokenExchangeRequest.jwtTokenType),
        ]
        let proof: String
        do {
            form.append(("actor_token", try self.svid(agent)))
            form.append(("subject_token_dpop", try self.proof(self.key(parent.agent), uri: Self.tokenEndpoint.uri, token: parent.token)))
            proof = try self.proof(self.key(agent), uri: Self.tokenEndpoint.uri, token: nil)
        } catch { throw TokenExchangeError(.serverError, "fixture: \(error)") }
        if let scope = Self.scope(step) { form.append(("scope", scope)) }
        if let ttl = step["ttl"]?.intValue { form.append(("requested_lifetime", String(ttl))) }
        let issued = try await self.authority.exchange(try TokenExchangeRequest(form: form), proof: proof, proofTarget: Self.tokenEndpoint)
        return Held(token: issued.token, grant: issued.grant, agent: agent)
    }

    /// What the gateway serves: every backend's listing under the scenario's labels, checked
    /// against the tool pins as `latch serve`'s refresh does (``ToolPinning``).
    func refreshTools() async throws {
        var served: [GatewayTool] = []
        var disabled: [String: DisabledTool] = [:]
        for (name, backend) in self.backends.sorted(by: { $0.key < $1.key }) {
            let listed = try await backend.listTools().compactMap { definition in
                GatewayTool(
                    upstream: name, definition: definition, labels: self.labels[name + "." + (definition["name"]?.stringValue ?? "")] ?? ToolLabels())
            }
            let decision = ToolPinning.decide(
                listed: listed, pins: try await self.store.toolPins(upstream: name), mode: self.pinning, now: self.now)
            var lost: Set<String> = []
            for change in decision.changes {
                switch change {
                case .pinFirst(let pin): if !(try await self.store.pinFirstDefinition(pin)) { lost.insert(pin.name) }
                case .recordPending(let pin): _ = try await self.store.savePendingToolPin(pin)
                case .dropPending(let upstream, let tool, let digest):
                    _ = try await self.store.deletePendingToolPin(upstream: upstream, tool: tool, digest: digest)
                }
            }
            served += decision.served.filter { !lost.contains($0.name) }
            for tool in decision.disabled { disabled[tool.tool.name] = tool }
        }
        self.gateway.update {
            $0.catalog = ToolCatalog(served)
            $0.disabledTools = disabled
        }
    }

    /// An operator accepts the pending definition of `tool` (`latch tool accept`), then the tools are refreshed.
    func acceptDefinition(_ tool: String, by person: String) async throws -> Bool {
        guard let dot = tool.firstIndex(of: ".") else { return false }
        let upstream = String(tool[..<dot])
        let name = String(tool[tool.index(after: dot)...])
        guard let pending = try await self.store.toolPins(upstream: upstream).first(where: { $0.tool == name && $0.status == .pending }) else {
            return false
        }
        let outcome = try await self.store.acceptToolPin(
            upstream: upstream, tool: name, digest: pending.digest, acceptedAt: self.now, acceptedBy: person)
        try await self.refreshTools()
        if case .accepted = outcome { return true }
        return false
    }

    /// One request to `/mcp` as `held`'s agent (protocol 2026-07-28, stateless).
    func request(
        _ body: JSONValue, method: String, name: String?, as held: Held, signer: P256.Signing.PrivateKey? = nil, proof: String? = nil
    )
        throws -> (MCPHTTPRequest, String)
    {
        let proof = try proof ?? self.proof(signer ?? self.key(held.agent), uri: Self.base + "/mcp", token: held.token)
        var headers: [String: [String]] = [
            "authorization": ["DPoP " + held.token], "dpop": [proof], "content-type": ["application/json"],
            "mcp-protocol-version": [MCPGateway.modernVersion], "mcp-method": [method],
        ]
        if let name { headers["mcp-name"] = [name] }
        return (MCPHTTPRequest(method: "POST", headers: headers, body: Array(body.serializedBytes)), proof)
    }
}
