import CedarPolicy
import Crypto
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of this process, seconds.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// An upstream that answers every call at once, in this process: what is left of a call through
/// ``MCPGateway/handle(_:)`` is Latch's own work.
struct InstantUpstream: MCPUpstream {
    static let result = LatchIdentity.JSONValue.object([
        "content": .array([.object(["type": .string("text"), "text": .string("hello from the echo tool")])]), "isError": .bool(false),
    ])
    static let definition = LatchIdentity.JSONValue.object([
        "name": .string("echo"), "description": .string("Answers with a canned text."),
        "inputSchema": .object(["type": .string("object"), "properties": .object(["text": .object(["type": .string("string")])])]),
    ])
    let name = "bench"
    func listTools() async throws(MCPUpstreamError) -> [LatchIdentity.JSONValue] { [Self.definition] }
    func callTool(
        name: String, arguments: LatchIdentity.JSONValue?, meta: LatchIdentity.JSONValue?
    ) async throws(MCPUpstreamError) -> LatchIdentity.JSONValue { Self.result }
    func shutdown() async {}
}

/// Keeps no record (to tell the record's cost apart).
struct NoRecorder: DecisionRecorder {
    func record(_ record: DecisionRecord) async throws {}
}

struct AllowGrants: GrantDecider {
    func decide(_ question: GrantQuestion) -> GrantDecision { GrantDecision(allowed: true, policies: ["bench"]) }
}

/// Sequential calls of one variant: wall time per call (µs, sorted) and CPU time per call.
struct Sample {
    let latencies: [Double]
    let cpuMicros: Double
    var p50: Double { self.latencies[self.latencies.count / 2] }
    var mean: Double { self.latencies.reduce(0, +) / Double(self.latencies.count) }
}

extension InProcess {
    static let base = "http://127.0.0.1:1"

    /// A fresh SQLite store in a temporary directory (removed after), and a grant authority on it
    /// (issuer ``base``, a new signing key, every grant allowed, quarantines kept in the store).
    static func withStore<Result: Sendable>(
        named name: String, logger: Logger, _ body: @Sendable (any LatchStore, GrantAuthority, SystemWallClock) async throws -> Result
    ) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latch-gw-\(name)-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { store in
            let clock = SystemWallClock()
            let trustDomain = try TrustDomain(parsing: "bench.test")
            var key = try CAKey.generate(purpose: .jwtSigning, trustDomain: trustDomain, now: clock.now().milliseconds - 1000, lifetime: 86_400_000)
            key.state = .active
            let authority = GrantAuthority(
                settings: GrantSettings(), repository: store, decider: AllowGrants(), clock: clock, quarantineStore: store)
            authority.setKeys(
                issuer: Self.base, signingKey: key,
                svidValidator: TrustBundle(trustDomain: trustDomain, keys: [key], sequence: 1, refreshHint: 300).jwtValidator())
            return try await body(store, authority, clock)
        }
    }
}

/// `MCPGateway.handle` over an instant upstream, called in this process (no HTTP): with the
/// SQLite decision recorder (the whole of Latch's work: authenticate, parse, decide, record,
/// answer), without a recorder, and the grant + DPoP verification alone.
enum InProcess {
    struct Result {
        let full: Sample
        let noRecord: Sample
        let verify: Sample
        /// One P-256 ECDSA check of a proof-sized input (Crypto directly): the floor of the proof check.
        let signature: Sample
        let decide: Sample
    }

    static func run(calls: Int, policyFile: String, logger: Logger) async throws -> Result {
        try await Self.withStore(named: "inproc", logger: logger) { store, authority, clock in
            let base = Self.base
            let uri = base + MCPGateway.path
            let agent = DPoPKey()
            let now = clock.now().milliseconds
            let grant = TaskGrant(
                id: UUID().uuidString, taskID: UUID().uuidString, subject: try SPIFFEID(parsing: "spiffe://bench.test/agents/bench"),
                audience: ["latch-gateway"], intent: "benchmark the gateway",
                scope: GrantScope(tools: ["bench.echo"], dataDomains: [], destinations: [], maxSensitivity: .internal), issuedAt: now,
                expiresAt: now + 3_600_000, keyThumbprint: agent.thumbprint)
            let token = try await authority.issue(grant).token

            var policies = PolicySet()
            for var policy in try CedarParser.parsePolicies(String(contentsOfFile: policyFile, encoding: .utf8)) {
                policy.id = policy.annotation("id") ?? policy.id
                try policies.add(policy)
            }
            let policy = ToolCallPolicy(policies: policies, attributes: { _ in ["team": .string("interop")] })
            guard let tool = GatewayTool(upstream: "bench", definition: InstantUpstream.definition, labels: ToolLabels(sensitivity: .public)) else {
                throw BenchFailure(description: "bad tool")
            }
            let snapshot = MCPGateway.Snapshot(catalog: ToolCatalog([tool]), upstreams: ["bench": InstantUpstream()], policy: policy)
            func gateway(_ recorder: any DecisionRecorder) -> MCPGateway {
                MCPGateway(
                    settings: MCPGatewaySettings(), baseURL: { base }, authority: authority, snapshot: snapshot, recorder: recorder,
                    valueKey: LedgerKey.generate().valueKey, clock: clock,
                    logger: logger)
            }
            let authorization = "DPoP " + token
            var proofNumber = 0
            func proofs(_ count: Int) throws -> [String] {
                proofNumber += 1
                return try agent.proofs(count, uri: uri, accessToken: token, now: clock.now().milliseconds, prefix: "in\(proofNumber)")
            }
            func request(_ body: String, proof: String, session: String?) -> MCPHTTPRequest {
                var headers: [String: [String]] = [
                    "content-type": ["application/json"], "accept": ["application/json, text/event-stream"],
                    "mcp-protocol-version": [LoadGenerator.protocolVersion], "authorization": [authorization], "dpop": [proof],
                ]
                if let session { headers["mcp-session-id"] = [session] }
                return MCPHTTPRequest(method: "POST", headers: headers, body: Array(body.utf8))
            }
            /// A session, then `calls` sequential tools/calls (proofs made first, untimed).
            func sample(_ gateway: MCPGateway) async throws -> Sample {
                let opening = try proofs(2)
                let initialized = await gateway.handle(
                    request(
                        #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#,
                        proof: opening[0], session: nil))
                guard let session = initialized.headers.first(where: { $0.name == "Mcp-Session-Id" })?.value else {
                    throw BenchFailure(description: "in-process initialize answered \(initialized.status)")
                }
                _ = await gateway.handle(request(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, proof: opening[1], session: session))
                let requests = try proofs(calls).enumerated().map { index, proof in
                    request(
                        #"{"jsonrpc":"2.0","id":"# + String(index + 1)
                            + #","method":"tools/call","params":{"name":"bench.echo","arguments":{"text":"hello"}}}"#,
                        proof: proof, session: session)
                }
                var latencies: [Double] = []
                latencies.reserveCapacity(calls)
                let cpu = cpuSeconds()
                for request in requests {
                    let start = ContinuousClock.now
                    let answer = await gateway.handle(request)
                    let elapsed = start.duration(to: .now)
                    guard answer.status == 200, let value = LatchIdentity.JSONValue(parsing: answer.body), value["result"]?["isError"] == .bool(false)
                    else {
                        throw BenchFailure(
                            description: "in-process tools/call answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
                    }
                    latencies.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
                }
                return Sample(latencies: latencies.sorted(), cpuMicros: (cpuSeconds() - cpu) / Double(calls) * 1e6)
            }

            let withRecords = gateway(StoreDecisionRecorder(repository: store, ledgerKey: LedgerKey.generate()))
            let withoutRecords = gateway(NoRecorder())
            _ = try await sample(withRecords)  // warm-up: SQLite pages, caches
            let full = try await sample(withRecords)
            let noRecord = try await sample(withoutRecords)

            // The grant and its DPoP proof alone (the verified-grant cache holds the grant: one
            // ECDSA verify per call, the proof's).
            guard let verifier = authority.keys?.verifier else { throw BenchFailure(description: "no verifier") }
            let target = DPoPRequest(method: "POST", uri: uri, accessToken: Redacted(token))
            var verifyLatencies: [Double] = []
            let verifyProofs = try proofs(calls)
            let verifyCPU = cpuSeconds()
            for proof in verifyProofs {
                let start = ContinuousClock.now
                _ = try verifier.verify(token, audience: "latch-gateway", proof: proof, request: target, now: clock.now().milliseconds)
                let elapsed = start.duration(to: .now)
                verifyLatencies.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
            }
            let verify = Sample(latencies: verifyLatencies.sorted(), cpuMicros: (cpuSeconds() - verifyCPU) / Double(calls) * 1e6)

            // The proof's ECDSA check alone: what the proof check cannot go below.
            let signed = Array(try proofs(1)[0].utf8)
            let message = Array(signed[..<(signed.lastIndex(of: UInt8(ascii: ".")) ?? signed.endIndex)])
            let ecdsa = try agent.key.signature(for: message)
            var signatureLatencies: [Double] = []
            let signatureCPU = cpuSeconds()
            var valid = 0
            for _ in 0..<calls {
                let start = ContinuousClock.now
                if agent.key.publicKey.isValidSignature(ecdsa, for: message) { valid += 1 }
                let elapsed = start.duration(to: .now)
                signatureLatencies.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
            }
            guard valid == calls else { throw BenchFailure(description: "the signature did not verify") }
            let signature = Sample(latencies: signatureLatencies.sorted(), cpuMicros: (cpuSeconds() - signatureCPU) / Double(calls) * 1e6)

            // The scope check and Cedar decision alone, over a fresh session's facts.
            var decideLatencies: [Double] = []
            let facts = SessionFacts()
            let decideCPU = cpuSeconds()
            var allowed = 0
            for _ in 0..<calls {
                let start = ContinuousClock.now
                if policy.decide(grant: grant, tool: tool, arguments: ["text": .string("hello")], facts: facts, now: now).allowed { allowed += 1 }
                let elapsed = start.duration(to: .now)
                decideLatencies.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
            }
            guard allowed == calls else { throw BenchFailure(description: "the policy denied the benchmark's call") }
            let decide = Sample(latencies: decideLatencies.sorted(), cpuMicros: (cpuSeconds() - decideCPU) / Double(calls) * 1e6)
            return Result(full: full, noRecord: noRecord, verify: verify, signature: signature, decide: decide)
        }
    }
}
