import CedarPolicy
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchGrants
import LatchGuard
import LatchIdentity
import LatchServer
import Logging

/// The kill switch on a task of 1,000 grants (`GatewayBench killswitch`): one call from a leaf
/// trips a guard rule; how long until every grant of the tree is refused. In process, on a SQLite
/// store, through ``MCPGateway/handle(_:)``, over ``InstantUpstream``.
///
/// Per round, a fresh task: root, 9 children, 81 grandchildren and 909 grants at depth 3, all
/// issued and stored; the leaf's first call is allowed, its second trips `rate: 1, action: kill`.
/// Timed: the tripping call (decide, revoke the root and quarantine the agent in the store,
/// record), then, from its answer, the next call with another grant of the tree (refused: the
/// revocation is in the node's index before the store is written), then a call with every one of
/// the 1,000. An allowed call on a live task is timed beside them.
enum KillSwitch {
    struct Round {
        /// The call that trips the kill switch, µs.
        var trip: Double
        /// From the tripping call's answer to the next call's refusal (another grant of the tree), µs.
        var tripToDenial: Double
        /// Every grant of the tree refused once, mean per call, µs.
        var denialMean: Double
        /// An allowed call on another, live task, µs (the same path when nothing is killed).
        var allowed: Double
    }

    static let grants = 1_000

    static func run(rounds: Int, logger: Logger) async throws -> [Round] {
        try await InProcess.withStore(named: "kill", logger: logger) { store, authority, clock in
            let base = InProcess.base
            let uri = base + MCPGateway.path
            guard let tool = GatewayTool(upstream: "bench", definition: InstantUpstream.definition, labels: ToolLabels(sensitivity: .public)) else {
                throw BenchFailure(description: "bad tool")
            }
            var settings = MCPGatewaySettings()
            settings.guardRules = try GuardRules([
                GuardRule(id: "one-echo", kind: .rate(limit: 1, window: 3_600_000), action: .kill, reason: "chain_anomaly")
            ])
            let gateway = MCPGateway(
                settings: settings, baseURL: { base }, authority: authority,
                snapshot: MCPGateway.Snapshot(
                    catalog: ToolCatalog([tool]), upstreams: ["bench": InstantUpstream()],
                    policy: ToolCallPolicy(policies: try Self.permitAll(), attributes: { _ in [:] })),
                recorder: StoreDecisionRecorder(repository: store, ledgerKey: LedgerKey.generate()), valueKey: LedgerKey.generate().valueKey,
                clock: clock, logger: logger)
            let agentKey = DPoPKey()
            func request(_ token: String, proof: String) -> MCPHTTPRequest {
                let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"bench.echo","arguments":{"text":"hi"},"#
                    + #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
                return MCPHTTPRequest(
                    method: "POST",
                    headers: [
                        "content-type": ["application/json"], "accept": ["application/json, text/event-stream"],
                        "mcp-protocol-version": ["2026-07-28"], "mcp-method": ["tools/call"], "mcp-name": ["bench.echo"],
                        "authorization": ["DPoP " + token], "dpop": [proof],
                    ], body: Array(body.utf8))
            }
            func micros(_ duration: Duration) -> Double {
                Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
            }
            var results: [Round] = []
            for round in 0..<rounds {
                // Each round's agent is new: the last one is quarantined.
                let agent = try SPIFFEID(parsing: "spiffe://bench.test/agents/planner-\(round)")
                let tokens = try await Self.tree(authority: authority, agent: agent, key: agentKey, now: clock.now().milliseconds)
                let live = try await Self.tree(
                    authority: authority, agent: try SPIFFEID(parsing: "spiffe://bench.test/agents/other-\(round)"), key: agentKey,
                    now: clock.now().milliseconds, size: 1)[0]
                // Proofs are the client's work: made before timing.
                let now = clock.now().milliseconds
                let leaf = tokens[tokens.count - 1]
                let warm = try agentKey.proof(uri: uri, accessToken: leaf, now: now, jti: "w\(round)")
                let tripProof = try agentKey.proof(uri: uri, accessToken: leaf, now: now, jti: "t\(round)")
                let nextProof = try agentKey.proof(uri: uri, accessToken: tokens[0], now: now, jti: "n\(round)")
                let liveProof = try agentKey.proof(uri: uri, accessToken: live, now: now, jti: "l\(round)")
                let allProofs = try tokens.enumerated().map { try agentKey.proof(uri: uri, accessToken: $1, now: now, jti: "a\(round)-\($0)") }

                let allowedStart = ContinuousClock.now
                let allowedAnswer = await gateway.handle(request(live, proof: liveProof))
                let allowed = micros(allowedStart.duration(to: .now))
                let first = await gateway.handle(request(leaf, proof: warm))
                guard allowedAnswer.status == 200, first.status == 200 else {
                    throw BenchFailure(description: "allowed calls answered \(allowedAnswer.status), \(first.status)")
                }
                let tripStart = ContinuousClock.now
                let tripped = await gateway.handle(request(leaf, proof: tripProof))
                let trippedAt = ContinuousClock.now
                let next = await gateway.handle(request(tokens[0], proof: nextProof))
                let deniedAt = ContinuousClock.now
                guard String(decoding: tripped.body, as: UTF8.self).contains("chain_anomaly"), next.status == 401 else {
                    throw BenchFailure(description: "the kill switch did not trip: \(String(decoding: tripped.body, as: UTF8.self)), then \(next.status)")
                }
                let allStart = ContinuousClock.now
                var refused = 0
                for (token, proof) in zip(tokens, allProofs) where await gateway.handle(request(token, proof: proof)).status == 401 { refused += 1 }
                let all = micros(allStart.duration(to: .now))
                guard refused == tokens.count else { throw BenchFailure(description: "\(tokens.count - refused) grants of the killed task still work") }
                results.append(
                    Round(
                        trip: micros(tripStart.duration(to: trippedAt)), tripToDenial: micros(trippedAt.duration(to: deniedAt)),
                        denialMean: all / Double(tokens.count), allowed: allowed))
            }
            return results
        }
    }

    static func permitAll() throws -> PolicySet {
        var policies = PolicySet()
        for policy in try CedarParser.parsePolicies(#"permit (principal, action, resource);"#) { try policies.add(policy) }
        return policies
    }

    /// A task of `size` grants for `agent` (root first, then by depth: 9, 81, the rest at depth 3),
    /// issued and stored; their tokens.
    static func tree(authority: GrantAuthority, agent: SPIFFEID, key: DPoPKey, now: Int64, size: Int = Self.grants) async throws -> [String] {
        let scope = GrantScope(tools: ["bench.echo"], dataDomains: [], destinations: [], maxSensitivity: .internal)
        let root = TaskGrant(
            id: UUID().uuidString, taskID: UUID().uuidString, subject: agent, audience: ["latch-gateway"], intent: "benchmark the kill switch",
            scope: scope, issuedAt: now, expiresAt: now + 3_600_000, keyThumbprint: key.thumbprint)
        var tokens = [try await authority.issue(root).token]
        // Workers are new in every tree: the kill quarantines the leaf's holder.
        let workers = "spiffe://bench.test/agents/worker-" + root.taskID.prefix(8) + "-"
        var level = [root]
        var depth = 0
        while tokens.count < size {
            depth += 1
            var next: [TaskGrant] = []
            for parent in level {
                for _ in 0..<(depth < 3 ? 9 : 12) where tokens.count < size {
                    let grant = TaskGrant(
                        id: UUID().uuidString, taskID: root.taskID, subject: agent,
                        actors: [try SPIFFEID(parsing: workers + String(tokens.count))] + parent.actors, audience: root.audience,
                        intent: root.intent, scope: scope, issuedAt: now, expiresAt: root.expiresAt, ancestors: parent.ancestors + [parent.id],
                        depth: depth, keyThumbprint: key.thumbprint)
                    tokens.append(try await authority.issue(grant).token)
                    next.append(grant)
                }
            }
            level = next
        }
        return tokens
    }
}
