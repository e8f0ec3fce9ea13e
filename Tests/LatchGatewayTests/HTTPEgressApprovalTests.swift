import Crypto
import Foundation
import LatchCore
import LatchGrants
import LatchIdentity
import LatchTesting
import Synchronization
import Testing

@testable import LatchGateway

/// An HTTP API in process: answers every request 200 with its body, and counts what reached it.
final class EchoHTTPAPI: HTTPAPITransport {
    private let received = Mutex<[HTTPAPIRequest]>([])

    var requests: [HTTPAPIRequest] { self.received.withLock { $0 } }

    func send(_ request: HTTPAPIRequest) async throws(HTTPAPIError) -> HTTPAPIResponse {
        self.received.withLock { $0.append(request) }
        return HTTPAPIResponse(status: 200, headers: [("Content-Type", "application/json")], body: request.body)
    }
}

/// Holds at `/egress`: a request an `@approvable` forbid denies becomes a held request bound to the
/// SHA-256 of its method, API, path and query, body digest and grant; it is retried with
/// `Latch-Approval: ID` under the same rules and reasons as MCP holds.
@Suite("HTTP egress approvals")
struct HTTPEgressApprovalTests {
    typealias Fixture = MCPGatewayTests.Fixture

    static let policies = #"""
        permit (principal, action == Latch::Action::"CallTool", resource);
        @id("large-payment")
        @approvable("payments over 1000")
        forbid (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"pay.write")
        when { context.http.path like "/payments*" && context.http.query like "*big*" };
        """#

    struct Harness {
        let fixture: Fixture
        let store: InMemoryIdentityStore
        let api = EchoHTTPAPI()
        let egress: HTTPEgress

        init(ttl: Int64 = 600_000) async throws {
            self.store = InMemoryIdentityStore()
            self.fixture = try await MCPGatewayApprovalTests.fixture(self.store, policies: HTTPEgressApprovalTests.policies, ttl: ttl)
            self.egress = HTTPEgress(
                gateway: self.fixture.gateway, transport: self.api,
                apis: [
                    HTTPAPIConfiguration(name: "pay", baseURL: "https://pay.example.com", labels: ToolLabels(egress: .external, sideEffects: .write))
                ])
        }

        /// A grant for `pay.write` to pay.example.com.
        func grant() async throws -> String {
            let grant = TaskGrant(
                id: UUID().uuidString, taskID: UUID().uuidString, subject: MCPGatewayTests.agent, audience: ["latch-gateway"], intent: "test",
                scope: GrantScope(tools: ["pay.write"], dataDomains: [], destinations: ["pay.example.com"], maxSensitivity: .internal),
                issuedAt: ProofBuilder.now, expiresAt: ProofBuilder.now + 300_000,
                keyThumbprint: CAKey.thumbprint(of: self.fixture.agentKey.publicKey))
            return try await self.fixture.authority.issue(grant).token
        }

        /// `POST /egress/pay/payments?<query>` with `body`, naming `approval` when given.
        func post(
            grant: String, query: String = "amount=big", body: String = #"{"iban": "DE89370400440532013000"}"#, approval: String? = nil
        )
            async throws -> (status: Int, json: JSONValue)
        {
            let path = "/egress/pay/payments"
            var builder = ProofBuilder(jti: UUID().uuidString, method: "POST", uri: MCPGatewayTests.base + path)
            builder.key = self.fixture.agentKey
            builder.header["jwk"] = ProofBuilder.jwk(self.fixture.agentKey.publicKey)
            builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(grant.utf8)))))
            var headers: [(name: String, value: String)] = [("Authorization", "DPoP " + grant), ("DPoP", try builder.build())]
            if let approval { headers.append((Approval.egressHeader, approval)) }
            let answer = await self.egress.handle(
                HTTPEgressRequest(method: "POST", path: path, query: query, headers: headers, body: Array(body.utf8)))
            return (answer.status, JSONValue(parsing: answer.body) ?? .null)
        }
    }

    @Test(
        "a held egress request gets 403 approval_required naming an approval bound to the request; approved, the same retry with Latch-Approval is forwarded once; again it is approval_consumed"
    )
    func heldAndReleased() async throws {
        let harness = try await Harness()
        let grant = try await harness.grant()
        #expect(try await harness.post(grant: grant, query: "amount=small").status == 200, "what the forbid does not match goes through")
        let held = try await harness.post(grant: grant)
        #expect(held.status == 403 && held.json["reason"] == .string("approval_required"), "\(held)")
        #expect(held.json["policies"] == .array([.string("large-payment")]))
        let id = try #require(held.json["approval_id"]?.stringValue)
        #expect(held.json["approval_expires_at"] == .int(ProofBuilder.now + 600_000))
        #expect(harness.api.requests.count == 1, "the held request is not sent")

        let approval = try #require(try await harness.store.approval(id: id))
        #expect(approval.tool == "pay.write" && approval.reason == "payments over 1000")
        let records = try await harness.store.decisionRecords(taskID: nil, limit: 10)
        let grantID = try #require(records.first?.grantID)
        #expect(
            approval.digest
                == Approval.egressDigest(
                    method: "POST", api: "pay", pathAndQuery: "/payments?amount=big",
                    bodySHA256: hexString(SHA256.hash(data: Array(#"{"iban": "DE89370400440532013000"}"#.utf8))), grantID: grantID))
        let opened = try ApprovalPrivacy(ledgerKey: TestKeys.ledgerKey).openArguments(of: approval)
        #expect(
            opened
                == .object([
                    "method": .string("POST"), "path": .string("/payments"), "query": .string("amount=big"),
                    "body": .string(#"{"iban": "DE89370400440532013000"}"#),
                ]))
        // The path is an argument: sealed above, not in the risk, which is stored in clear.
        #expect(approval.risk?["http"] == .object(["method": .string("POST")]))
        #expect(approval.risk?["destination"] == .string("pay.example.com"))

        let pending = try await harness.post(grant: grant, approval: id)
        #expect(pending.status == 403 && pending.json["reason"] == .string("approval_pending"), "\(pending)")
        _ = try await harness.store.decideApproval(id: id, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 10)
        harness.fixture.clock.advance(milliseconds: 10)
        let other = try await harness.post(grant: grant, body: #"{"iban": "GB00EVIL"}"#, approval: id)
        #expect(other.status == 403 && other.json["reason"] == .string("approval_mismatch"), "another body: \(other)")
        let otherQuery = try await harness.post(grant: grant, query: "amount=big&to=eve", approval: id)
        #expect(otherQuery.json["reason"] == .string("approval_mismatch"), "another query")
        let released = try await harness.post(grant: grant, approval: id)
        #expect(released.status == 200, "\(released)")
        #expect(harness.api.requests.count == 2 && harness.api.requests.last?.url == "https://pay.example.com/payments?amount=big")
        #expect(
            harness.api.requests.last?.headers.contains { $0.name.lowercased() == "latch-approval" } == false, "the header is Latch's, not the API's")
        harness.fixture.clock.advance(milliseconds: 10)
        let again = try await harness.post(grant: grant, approval: id)
        #expect(again.status == 403 && again.json["reason"] == .string("approval_consumed"), "\(again)")
        #expect(harness.api.requests.count == 2)
        let all = try await harness.store.decisionRecords(taskID: nil, limit: 20)
        #expect(all.contains { $0.allowed && $0.approvalID == id && $0.message?.contains("approved by alice") == true })
        #expect(all.filter { $0.approvalID == id }.count == 7, "held, pending, 2 mismatches, released (decision + outcome), consumed")
        await harness.fixture.upstream.shutdown()
    }

    @Test("an egress approval that expires denies the retry approval_timeout; a denied one approval_denied; an unknown ID approval_mismatch")
    func refusals() async throws {
        let harness = try await Harness(ttl: 2_000)
        let grant = try await harness.grant()
        let expiring = try #require(try await harness.post(grant: grant).json["approval_id"]?.stringValue)
        _ = try await harness.store.decideApproval(id: expiring, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 10)
        harness.fixture.clock.advance(milliseconds: 2_500)
        #expect(try await harness.post(grant: grant, approval: expiring).json["reason"] == .string("approval_timeout"))
        let denied = try #require(try await harness.post(grant: grant).json["approval_id"]?.stringValue)
        _ = try await harness.store.decideApproval(id: denied, approve: false, by: "bob", note: nil, now: ProofBuilder.now + 2_600)
        #expect(try await harness.post(grant: grant, approval: denied).json["reason"] == .string("approval_denied"))
        #expect(try await harness.post(grant: grant, approval: "nope").json["reason"] == .string("approval_mismatch"))
        #expect(harness.api.requests.isEmpty)
        await harness.fixture.upstream.shutdown()
    }
}
