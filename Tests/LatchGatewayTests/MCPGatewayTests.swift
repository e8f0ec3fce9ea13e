import CedarPolicy
import Crypto
import Foundation
import LatchCore
@testable import LatchGateway
import LatchGrants
import LatchIdentity
import LatchSQLite
import LatchTesting
import Logging
import Testing

typealias JSONValue = LatchIdentity.JSONValue

/// `MCPGateway.handle` in process, with a real upstream (the reference SDK's server over stdio)
/// and a real store: sessions, authentication answers, and what happens when a record cannot be
/// stored.
@Suite("MCPGateway")
struct MCPGatewayTests {
    static let base = "https://latch.test"
    static let agent = (try? SPIFFEID(parsing: "spiffe://example.org/agents/a")) ?? { fatalError("fixture") }()

    /// A gateway over `store`'s records, serving `files.echo` from the reference server.
    struct Fixture {
        let clock = TestWallClock()
        let authority: GrantAuthority
        let gateway: MCPGateway
        let upstream: StdioMCPUpstream
        let agentKey = P256.Signing.PrivateKey()

        init(recorder: any DecisionRecorder) async throws {
            self.clock.set(UnixTime(milliseconds: ProofBuilder.now))
            let key = TestKeys.jwtKey(now: ProofBuilder.now - 1000)
            self.authority = GrantAuthority(settings: GrantSettings(), repository: InMemoryIdentityStore(), decider: AllowAll(), clock: self.clock)
            self.authority.setKeys(issuer: MCPGatewayTests.base, signingKey: key, svidValidator: JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [key.keyID: key.publicKey]))
            self.upstream = try StdioMCPUpstreamTests.upstream()
            let echo = try #require(GatewayTool(upstream: "files", definition: try await self.upstream.listTools().first { $0["name"] == .string("echo") } ?? .null, labels: ToolLabels()))
            var policies = PolicySet()
            for policy in try CedarParser.parsePolicies(#"permit (principal, action == Latch::Action::"CallTool", resource);"#) { try policies.add(policy) }
            self.gateway = MCPGateway(
                settings: MCPGatewaySettings(), baseURL: { MCPGatewayTests.base }, authority: self.authority,
                snapshot: MCPGateway.Snapshot(
                    catalog: ToolCatalog([echo]), upstreams: ["files": self.upstream], policy: ToolCallPolicy(policies: policies) { _ in [:] }),
                recorder: recorder, clock: self.clock, logger: Logger(label: "test"))
        }

        struct AllowAll: GrantDecider { func decide(_ question: GrantQuestion) -> GrantDecision { GrantDecision(allowed: true, policies: []) } }

        /// A fresh task grant for the agent, bound to `agentKey`.
        func grant(task: String = UUID().uuidString) async throws -> String {
            let grant = TaskGrant(
                id: UUID().uuidString, taskID: task, subject: MCPGatewayTests.agent, audience: ["latch-gateway"], intent: "test",
                scope: GrantScope(tools: ["files.echo"], dataDomains: [], destinations: [], maxSensitivity: .internal),
                issuedAt: ProofBuilder.now, expiresAt: ProofBuilder.now + 300_000, keyThumbprint: CAKey.thumbprint(of: self.agentKey.publicKey))
            return try await self.authority.issue(grant).token
        }

        /// A request with the grant and a fresh proof for `POST <base>/mcp`.
        func request(_ body: String, grant: String, headers: [String: [String]] = [:], method: String = "POST") throws -> MCPHTTPRequest {
            var builder = ProofBuilder(jti: UUID().uuidString, method: method, uri: MCPGatewayTests.base + "/mcp")
            builder.key = self.agentKey
            builder.header["jwk"] = ProofBuilder.jwk(self.agentKey.publicKey)
            builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(grant.utf8)))))
            var all = headers
            all["authorization"] = ["DPoP " + grant]
            all["dpop"] = [try builder.build()]
            all["content-type"] = ["application/json"]
            return MCPHTTPRequest(method: method, headers: all, body: Array(body.utf8))
        }
    }

    static func json(_ response: MCPHTTPResponse) -> JSONValue? { JSONValue(parsing: response.body) }

    static let call = #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "files.echo", "arguments": {"text": "hi"}}}"#

    @Test("a call whose record cannot be stored is answered with an error, not the upstream's result (fail closed)")
    func unrecordedCallWithheld() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteIdentityStore(dataDirectory: directory)
        let fixture = try await Fixture(recorder: StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey))
        let grant = try await fixture.grant()
        let modern = ["mcp-protocol-version": ["2026-07-28"], "mcp-method": ["tools/call"], "mcp-name": ["files.echo"]]
        let body = #"{"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "files.echo", "arguments": {"text": "hi"}, "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}"#
        let ok = await fixture.gateway.handle(try fixture.request(body, grant: grant, headers: modern))
        #expect(Self.json(ok)?["result"]?["content"]?.arrayValue?.first?["text"] == .string("hi"), "\(String(decoding: ok.body, as: UTF8.self))")
        // The decision (stored before the call was sent) and its outcome.
        let records = try await store.decisionRecords(taskID: nil, limit: 10)
        #expect(records.count == 2 && records[0].decisionID == records[1].id && records[1].upstreamOutcome == "forwarded")

        try store.close()
        let failed = await fixture.gateway.handle(try fixture.request(body, grant: grant, headers: modern))
        let answer = try #require(Self.json(failed))
        #expect(answer["result"] == nil)
        #expect(answer["error"]?["code"] == .int(JSONRPC.internalError))
        #expect(answer["error"]?["message"]?.stringValue == "the call could not be recorded, so it was not sent")
        await fixture.upstream.shutdown()
    }

    @Test("a 2025-11-25 session belongs to the task and agent that opened it; without a grant the answer names the metadata")
    func sessions() async throws {
        let fixture = try await Fixture(recorder: StoreDecisionRecorder(repository: InMemoryIdentityStore(), ledgerKey: TestKeys.ledgerKey))
        let grant = try await fixture.grant()
        let opened = await fixture.gateway.handle(
            try fixture.request(#"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}"#, grant: grant))
        #expect(Self.json(opened)?["result"]?["protocolVersion"] == .string("2025-06-18"))
        let session = try #require(opened.headers.first { $0.name == "Mcp-Session-Id" }?.value)
        let headers = ["mcp-session-id": [session], "mcp-protocol-version": ["2025-06-18"]]
        let listed = await fixture.gateway.handle(try fixture.request(#"{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}"#, grant: grant, headers: headers))
        #expect(Self.json(listed)?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["files.echo"])
        // Another task's grant presenting the session is told it does not exist.
        let other = try await fixture.grant()
        let stolen = await fixture.gateway.handle(try fixture.request(#"{"jsonrpc": "2.0", "id": 3, "method": "tools/list"}"#, grant: other, headers: headers))
        #expect(stolen.status == 404)
        // No session at all.
        let missing = await fixture.gateway.handle(try fixture.request(#"{"jsonrpc": "2.0", "id": 4, "method": "tools/list"}"#, grant: grant))
        #expect(missing.status == 400)
        // DELETE ends it.
        #expect(await fixture.gateway.handle(try fixture.request("", grant: grant, headers: headers, method: "DELETE")).status == 204)
        #expect(await fixture.gateway.handle(try fixture.request(#"{"jsonrpc": "2.0", "id": 5, "method": "tools/list"}"#, grant: grant, headers: headers)).status == 404)
        // Unauthenticated: 401, WWW-Authenticate names the protected-resource metadata.
        let anonymous = await fixture.gateway.handle(MCPHTTPRequest(method: "POST", headers: [:], body: Array(Self.call.utf8)))
        #expect(anonymous.status == 401)
        let challenge = try #require(anonymous.headers.first { $0.name == "WWW-Authenticate" }?.value)
        #expect(challenge.hasPrefix("DPoP ") && challenge.contains("resource_metadata=\"https://latch.test/.well-known/oauth-protected-resource/mcp\""))
        #expect(Self.json(anonymous)?["error"]?["code"] == .int(JSONRPC.notAuthenticated))
        #expect(fixture.gateway.resourceMetadata["resource"] == .string("https://latch.test/mcp"))
        await fixture.upstream.shutdown()
    }

    @Test("Mcp-Name may be sent base64-encoded", arguments: [("=?base64?ZmlsZXMuZWNobw==?=", "files.echo"), ("files.echo", "files.echo"), ("=?base64?!!?=", nil)])
    func headerValues(_ header: String, _ decoded: String?) {
        #expect(MCPGateway.decodeHeaderValue(header) == decoded)
    }
}
