import Foundation
import LatchAudit
import LatchCore
import LatchGrants
import LatchGuard
import LatchIdentity
import LatchSQLite
import LatchTesting
import Synchronization
import Testing

@testable import LatchGateway

/// An upstream that counts the calls reaching it, forwarding them to a real one.
final class CountingUpstream: MCPUpstream {
    let base: any MCPUpstream
    private let count = Mutex(0)

    init(_ base: any MCPUpstream) { self.base = base }

    var name: String { self.base.name }
    var calls: Int { self.count.withLock { $0 } }

    func listTools() async throws(MCPUpstreamError) -> [JSONValue] { try await self.base.listTools() }

    func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue {
        self.count.withLock { $0 += 1 }
        return try await self.base.callTool(name: name, arguments: arguments, meta: meta)
    }

    func shutdown() async { await self.base.shutdown() }
}

/// Held calls in process: a forbid annotated `@approvable` (or a guard hold) creates an approval
/// the agent retries with; the retry is decided again and released only by an approved,
/// unexpired, unused approval for exactly that call.
@Suite("MCPGateway approvals")
struct MCPGatewayApprovalTests {
    typealias Fixture = MCPGatewayTests.Fixture

    /// Everything is permitted; `files.echo` of text starting "pay" is forbidden by an approvable policy.
    static let policies = #"""
        permit (principal, action == Latch::Action::"CallTool", resource);
        @id("new-payee")
        @approvable("payments to a new payee")
        forbid (principal, action == Latch::Action::"CallTool", resource) when { context.arguments.text like "pay*" };
        """#

    /// A fixture over `store` (records and approvals), with `policies`.
    static func fixture(
        _ store: some ApprovalRepository & DecisionRecordRepository, labels: ToolLabels = ToolLabels(), policies: String = Self.policies,
        guardRules: [GuardRule] = [], ttl: Int64 = 600_000, maxPending: Int = 5
    ) async throws -> Fixture {
        try await Fixture(
            recorder: StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey), labels: labels, guardRules: guardRules,
            policies: policies
        ) {
            $0.approvals = store
            $0.approvalTTL = ttl
            $0.approvalMaxPending = maxPending
        }
    }

    /// A tools/call of files.echo in protocol 2026-07-28, naming `approval` when given.
    static func echo(
        _ fixture: Fixture, grant: String, text: String, approval: String? = nil, prompt: String? = nil, requestState: String? = nil
    ) async throws -> JSONValue {
        let headers = ["mcp-protocol-version": ["2026-07-28"], "mcp-method": ["tools/call"], "mcp-name": ["files.echo"]]
        var meta: [String: JSONValue] = ["io.modelcontextprotocol/protocolVersion": .string("2026-07-28")]
        if let approval { meta[Approval.metaKey] = .string(approval) }
        if let prompt { meta[MCPGateway.promptMetaKey] = .string(prompt) }
        let body: JSONValue = .object([
            "jsonrpc": .string("2.0"), "id": .int(1), "method": .string("tools/call"),
            "params": .object(
                ["name": .string("files.echo"), "arguments": .object(["text": .string(text)]), "_meta": .object(meta)].merging(
                    requestState.map { ["requestState": JSONValue.string($0)] } ?? [:]
                ) { $1 }),
        ])
        let answer = await fixture.gateway.handle(
            try fixture.request(String(decoding: body.serializedBytes, as: UTF8.self), grant: grant, headers: headers))
        return MCPGatewayTests.json(answer) ?? .object(["status": .int(Int64(answer.status))])
    }

    /// What a denial's error says (`data`), or, for a call waiting for a person at 2026-07-28
    /// (an input-required result), what its `_meta["dev.latch/approval"]` says.
    static func data(_ answer: JSONValue) -> JSONValue? { answer["error"]?["data"] ?? answer["result"]?["_meta"]?[Approval.metaKey] }

    static func reason(_ answer: JSONValue) -> String? { Self.data(answer)?["reason"]?.stringValue }

    /// Holds a call of "pay bob" and returns the approval ID the answer names.
    static func hold(_ fixture: Fixture, grant: String, text: String = "pay bob") async throws -> String {
        let held = try await Self.echo(fixture, grant: grant, text: text)
        #expect(Self.reason(held) == "approval_required", "\(held)")
        return try #require(Self.data(held)?["approval_id"]?.stringValue)
    }

    @Test("a call an @approvable forbid denies is held: approval_required naming a pending approval bound to the call, recorded, nothing forwarded")
    func heldCall() async throws {
        let store = InMemoryIdentityStore()
        let fixture = try await Self.fixture(store)
        let grant = try await fixture.grant()
        let held = try await Self.echo(fixture, grant: grant, text: "pay bob")
        #expect(held["result"]?["resultType"] == .string("input_required"), "2026-07-28: the multi round-trip answer: \(held)")
        #expect(held["result"]?["inputRequests"] == nil && held["result"]?["requestState"]?.stringValue?.isEmpty == false)
        let data = try #require(Self.data(held))
        #expect(data["reason"] == .string("approval_required"))
        #expect(data["policies"] == .array([.string("new-payee")]))
        #expect(data["approval_expires_at"] == .int(ProofBuilder.now + 600_000))
        let id = try #require(data["approval_id"]?.stringValue)
        let approval = try #require(try await store.approval(id: id))
        let records = try await store.decisionRecords(taskID: nil, limit: 10)
        try #require(records.count == 1, "one record per attempt")
        #expect(approval.status == .pending && approval.tool == "files.echo" && approval.reason == "payments to a new payee")
        #expect(approval.policies == ["new-payee"] && approval.grantID == records[0].grantID && approval.taskID == records[0].taskID)
        #expect(approval.digest == Approval.digest(tool: "files.echo", arguments: .object(["text": .string("pay bob")]), grantID: records[0].grantID))
        #expect(!records[0].allowed && records[0].reason == "approval_required" && records[0].approvalID == id && records[0].upstreamOutcome == nil)
        #expect(records[0].argumentsHMAC == approval.argumentsHMAC)
        #expect(fixture.counted.calls == 0)
        #expect(try await Self.echo(fixture, grant: grant, text: "hello")["result"] != nil, "calls the forbid does not match go through")
        await fixture.upstream.shutdown()
    }

    @Test(
        "2026-07-28 round trip: a held call answers input_required with a sealed requestState; echoed while pending it answers so again; once approved it releases the call once; altered or from another grant it is refused"
    )
    func inputRequiredRoundTrip() async throws {
        let store = InMemoryIdentityStore()
        let fixture = try await Self.fixture(store)
        let grant = try await fixture.grant()
        let held = try await Self.echo(fixture, grant: grant, text: "pay bob")
        let state = try #require(held["result"]?["requestState"]?.stringValue, "\(held)")
        let id = try #require(Self.data(held)?["approval_id"]?.stringValue)
        #expect(!state.contains(id) && !state.contains("pay bob"), "opaque: sealed, not just signed")

        fixture.clock.advance(milliseconds: 10)
        let waiting = try await Self.echo(fixture, grant: grant, text: "pay bob", requestState: state)
        #expect(waiting["result"]?["resultType"] == .string("input_required") && Self.reason(waiting) == "approval_pending", "\(waiting)")
        #expect(Self.data(waiting)?["approval_id"] == .string(id), "the same approval, no new one")
        #expect(try await store.approvals(taskID: nil, status: nil, limit: 10).count == 1)

        // Altered, or echoed with another grant of the same agent: not one this gateway issued for it.
        var altered = Array(state.utf8)
        altered[altered.count / 2] = altered[altered.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let tampered = try await Self.echo(fixture, grant: grant, text: "pay bob", requestState: String(decoding: altered, as: UTF8.self))
        #expect(tampered["error"]?["code"] == .int(JSONRPC.invalidParams) && Self.reason(tampered) == "invalid_arguments", "\(tampered)")
        let other = try await fixture.grant()
        let elsewhere = try await Self.echo(fixture, grant: other, text: "pay bob", requestState: state)
        #expect(elsewhere["error"]?["code"] == .int(JSONRPC.invalidParams), "\(elsewhere)")

        _ = try await store.decideApproval(id: id, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 20)
        fixture.clock.advance(milliseconds: 10)
        let changed = try await Self.echo(fixture, grant: grant, text: "pay mallory", requestState: state)
        #expect(Self.reason(changed) == "approval_mismatch", "the state names the approval; the call must still be the held one: \(changed)")
        let released = try await Self.echo(fixture, grant: grant, text: "pay bob", requestState: state)
        #expect(released["result"]?["resultType"] == .string("complete"), "\(released)")
        #expect(released["result"]?["content"]?.arrayValue?.first?["text"] == .string("pay bob"))
        let again = try await Self.echo(fixture, grant: grant, text: "pay bob", requestState: state)
        #expect(Self.reason(again) == "approval_consumed" && again["error"]?["code"] == .int(JSONRPC.callDenied), "\(again)")
        #expect(fixture.counted.calls == 1, "only the released call reached the upstream")
        let records = try await store.decisionRecords(taskID: nil, limit: 20)
        #expect(records.count == 8, "one per attempt, and the released call's outcome: \(records.map { $0.reason ?? "allowed" })")
        await fixture.upstream.shutdown()
    }

    @Test(
        "a held call's approval keeps what the person deciding reads: arguments and prompt sealed (opening only for that approval and field), and its risk"
    )
    func heldCallContents() async throws {
        let store = InMemoryIdentityStore()
        let labels = ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write)
        let fixture = try await Self.fixture(store, labels: labels)
        let grant = try await fixture.grant()
        let held = try await Self.echo(fixture, grant: grant, text: "pay bob <img src=x>", prompt: "settle the invoice")
        let id = try #require(Self.data(held)?["approval_id"]?.stringValue, "\(held)")
        let approval = try #require(try await store.approval(id: id))
        let privacy = ApprovalPrivacy(ledgerKey: TestKeys.ledgerKey)
        #expect(try privacy.openArguments(of: approval) == .object(["text": .string("pay bob <img src=x>")]))
        #expect(try privacy.openPrompt(of: approval) == "settle the invoice")
        let risk = try #require(approval.risk)
        #expect(
            risk["labels"]
                == .object([
                    "sensitivity": .string("public"), "egress": .string("external"),
                    "side_effects": .string("write"), "untrusted": .bool(false),
                ]))
        #expect(risk["reason"] == .string("payments to a new payee") && risk["policies"] == .array([.string("new-payee")]))
        #expect(risk["tainted_arguments"] == .array([]))

        // A blob moved to another approval, or to the other field, or opened under another key, does not open.
        var moved = approval
        moved.id = "another"
        #expect(throws: LatchError.self) { try privacy.openArguments(of: moved) }
        var swapped = approval
        swapped.promptSealed = approval.argumentsSealed
        #expect(throws: LatchError.self) { try privacy.openPrompt(of: swapped) }
        #expect(throws: LatchError.self) {
            try ApprovalPrivacy(ledgerKey: try LedgerKey(bytes: [UInt8](repeating: 9, count: 32))).openArguments(of: approval)
        }
        #expect(throws: LatchError.self, "a record's key does not open an approval's blob") {
            try RecordPrivacy(ledgerKey: TestKeys.ledgerKey).openArguments(
                of: DecisionRecord(
                    id: id, time: 0, taskID: "t", grantID: "g", agent: "a", subject: "s", actors: [], method: "tools/call",
                    argumentsSealed: approval.argumentsSealed, allowed: false))
        }

        // Without a prompt, none is kept.
        let plain = try await Self.hold(fixture, grant: grant, text: "pay carol")
        #expect(try await store.approval(id: plain)?.promptSealed == nil)
        await fixture.upstream.shutdown()
    }

    @Test("the SQLite store holding a held call keeps none of its argument or prompt text in clear")
    func heldCallNotInClear() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("approvals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteIdentityStore(dataDirectory: directory)
        let fixture = try await Self.fixture(store)
        let grant = try await fixture.grant()
        let id = try await Self.hold(fixture, grant: grant, text: "pay DE89370400440532013000")
        #expect(try await store.approval(id: id)?.argumentsSealed != nil)
        _ = try await Self.echo(fixture, grant: grant, text: "pay again", prompt: "secret-prompt-Qx7")
        try store.close()
        await fixture.upstream.shutdown()
        var bytes: [UInt8] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            bytes += (FileManager.default.contents(atPath: directory + "/" + name).map(Array.init)) ?? []
        }
        #expect(!bytes.isEmpty)
        for secret in ["DE89370400440532013000", "secret-prompt-Qx7", "pay again"] {
            let needle = Array(secret.utf8)
            let found =
                bytes.count >= needle.count && (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
            #expect(!found, "\(secret) is in the store's files")
        }
    }

    @Test("an approved retry of the same call is allowed once and forwarded; a second retry is approval_consumed; both recorded with the approval")
    func approvedRetry() async throws {
        let store = InMemoryIdentityStore()
        let fixture = try await Self.fixture(store)
        let grant = try await fixture.grant()
        let id = try await Self.hold(fixture, grant: grant)
        _ = try await store.decideApproval(id: id, approve: true, by: "alice", note: "known payee", now: ProofBuilder.now + 10)
        fixture.clock.advance(milliseconds: 10)  // records ordered by time
        let released = try await Self.echo(fixture, grant: grant, text: "pay bob", approval: id)
        #expect(released["result"]?["content"]?.arrayValue?.first?["text"] == .string("pay bob"), "\(released)")
        #expect(fixture.counted.calls == 1)
        #expect(try await store.approval(id: id)?.status == .consumed)
        fixture.clock.advance(milliseconds: 10)
        let again = try await Self.echo(fixture, grant: grant, text: "pay bob", approval: id)
        #expect(Self.reason(again) == "approval_consumed", "\(again)")
        #expect(again["error"]?["data"]?["approval_id"] == .string(id))
        #expect(fixture.counted.calls == 1, "nothing more reaches the upstream")
        let records = try await store.decisionRecords(taskID: nil, limit: 10).reversed().map(\.self)
        // Held; released (decision + outcome); consumed.
        try #require(records.count == 4, "\(records)")
        #expect(records.allSatisfy { $0.approvalID == id })
        #expect(records[1].allowed && records[1].upstreamOutcome == "forwarded" && records[1].policies == ["new-payee"])
        #expect(records[1].message?.contains("approved by alice") == true)
        #expect(records[2].decisionID == records[1].id && records[2].upstreamOutcome == "ok")
        #expect(!records[3].allowed && records[3].reason == "approval_consumed")
        await fixture.upstream.shutdown()
    }

    @Test("a retry is denied with why while the approval does not release it: pending, denied, expired, another call's, unknown; no new approval")
    func refusedRetries() async throws {
        let store = InMemoryIdentityStore()
        let fixture = try await Self.fixture(store, ttl: 2_000)
        let grant = try await fixture.grant()
        let id = try await Self.hold(fixture, grant: grant)
        let pending = try await Self.echo(fixture, grant: grant, text: "pay bob", approval: id)
        #expect(Self.reason(pending) == "approval_pending" && Self.data(pending)?["approval_id"] == .string(id), "\(pending)")
        #expect(Self.data(pending)?["approval_expires_at"] == .int(ProofBuilder.now + 2_000))
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay mallory", approval: id)) == "approval_mismatch", "other arguments")
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay bob", approval: "no-such-approval")) == "approval_mismatch")
        let otherGrant = try await fixture.grant()
        #expect(Self.reason(try await Self.echo(fixture, grant: otherGrant, text: "pay bob", approval: id)) == "approval_mismatch", "another grant")
        _ = try await store.decideApproval(id: id, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 10)
        #expect(
            Self.reason(try await Self.echo(fixture, grant: otherGrant, text: "pay bob", approval: id)) == "approval_mismatch",
            "approved, for another grant")

        let refused = try await Self.hold(fixture, grant: grant, text: "pay carol")
        _ = try await store.decideApproval(id: refused, approve: false, by: "bob", note: "no", now: ProofBuilder.now + 10)
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay carol", approval: refused)) == "approval_denied")

        let late = try await Self.hold(fixture, grant: grant, text: "pay dave")
        fixture.clock.advance(milliseconds: 2_000)
        let timedOut = try await Self.echo(fixture, grant: grant, text: "pay dave", approval: late)
        #expect(Self.reason(timedOut) == "approval_timeout", "\(timedOut)")
        #expect(try await store.approval(id: late)?.effectiveStatus(now: fixture.clock.now().milliseconds) == .expired)
        // Approved in time but retried too late: also a timeout, never an allow.
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay bob", approval: id)) == "approval_timeout")

        #expect(fixture.counted.calls == 0, "nothing reached the upstream")
        let approvals = try await store.approvals(taskID: nil, status: nil, limit: 100)
        #expect(approvals.count == 3, "one held call per approval, none for the retries: \(approvals.map(\.id))")
        let records = try await store.decisionRecords(taskID: nil, limit: 100)
        #expect(records.count == 11 && records.allSatisfy { !$0.allowed && $0.approvalID != nil }, "one record per attempt")
        await fixture.upstream.shutdown()
    }

    @Test("a deny is held only when every determining forbid is @approvable: a plain forbid, a mixed pair, or no permit is a plain denial")
    func onlyApprovableForbids() async throws {
        let cases = [
            // A plain forbid.
            #"""
            permit (principal, action == Latch::Action::"CallTool", resource);
            @id("no-pay") forbid (principal, action, resource) when { context.arguments.text like "pay*" };
            """#,
            // Two forbids determine the deny; one is not approvable.
            #"""
            permit (principal, action == Latch::Action::"CallTool", resource);
            @id("new-payee") @approvable forbid (principal, action, resource) when { context.arguments.text like "pay*" };
            @id("no-pay") forbid (principal, action, resource) when { context.arguments.text like "pay*" };
            """#,
            // Only an approvable forbid, and no permit: approving must not allow what nothing permits.
            #"""
            @id("new-payee") @approvable forbid (principal, action, resource) when { context.arguments.text like "pay*" };
            """#,
            // No permit and no forbid: nothing determines the deny.
            #"""
            @id("other") @approvable forbid (principal, action, resource) when { context.arguments.text == "never" };
            """#,
        ]
        for policies in cases {
            let store = InMemoryIdentityStore()
            let fixture = try await Self.fixture(store, policies: policies)
            let grant = try await fixture.grant()
            let denied = try await Self.echo(fixture, grant: grant, text: "pay bob")
            #expect(Self.reason(denied) == "policy_denied" && denied["error"]?["data"]?["approval_id"] == nil, "\(denied)")
            #expect(try await store.approvals(taskID: nil, status: nil, limit: 10).isEmpty, "no approval created")
            await fixture.upstream.shutdown()
        }
    }

    @Test("flood control: past approval_max_pending pending approvals a held call is denied approval_rate_limit, nothing stored but its record")
    func floodCap() async throws {
        let store = InMemoryIdentityStore()
        let fixture = try await Self.fixture(store, maxPending: 2)
        let grant = try await fixture.grant()
        let first = try await Self.hold(fixture, grant: grant, text: "pay 1")
        _ = try await Self.hold(fixture, grant: grant, text: "pay 2")
        let third = try await Self.echo(fixture, grant: grant, text: "pay 3")
        #expect(Self.reason(third) == "approval_rate_limit" && third["error"]?["data"]?["approval_id"] == nil, "\(third)")
        #expect(try await store.approvals(taskID: nil, status: nil, limit: 10).count == 2)
        #expect(
            Self.reason(try await Self.echo(fixture, grant: try await fixture.grant(), text: "pay 3")) == "approval_required",
            "other tasks are not capped")
        _ = try await store.decideApproval(id: first, approve: false, by: "alice", note: nil, now: ProofBuilder.now + 10)
        _ = try await Self.hold(fixture, grant: grant, text: "pay 3")
        #expect(try await store.decisionRecords(taskID: nil, limit: 10).count == 5)
        await fixture.upstream.shutdown()
    }

    @Test("a guard hold is approvable: the approved retry passes the hold; a guard deny is not lifted by an approval")
    func guardHold() async throws {
        let store = InMemoryIdentityStore()
        let hold = GuardRule(id: "echo-twice", kind: .rate(limit: 1, window: 60_000), action: .hold, reason: "burst")
        let fixture = try await Self.fixture(
            store, policies: #"permit (principal, action == Latch::Action::"CallTool", resource);"#, guardRules: [hold])
        let grant = try await fixture.grant()
        #expect(try await Self.echo(fixture, grant: grant, text: "one")["result"] != nil)
        let held = try await Self.echo(fixture, grant: grant, text: "two")
        #expect(Self.reason(held) == "approval_required" && Self.data(held)?["policies"] == .array([.string("guard/echo-twice")]), "\(held)")
        let id = try #require(Self.data(held)?["approval_id"]?.stringValue)
        #expect(try await store.approval(id: id)?.reason == "burst")
        _ = try await store.decideApproval(id: id, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 10)
        #expect(try await Self.echo(fixture, grant: grant, text: "two", approval: id)["result"] != nil)
        #expect(fixture.counted.calls == 2)
        await fixture.upstream.shutdown()

        // An @approvable forbid and a guard rule that denies: the guard's deny stands.
        let other = InMemoryIdentityStore()
        let deny = GuardRule(id: "no-second", kind: .rate(limit: 1, window: 60_000), action: .deny, reason: "rate_limit")
        let denying = try await Self.fixture(other, guardRules: [deny])
        let grant2 = try await denying.grant()
        #expect(try await Self.echo(denying, grant: grant2, text: "one")["result"] != nil)
        let stopped = try await Self.echo(denying, grant: grant2, text: "pay bob")
        #expect(Self.reason(stopped) == "rate_limit" && stopped["error"]?["data"]?["approval_id"] == nil, "\(stopped)")
        #expect(try await other.approvals(taskID: nil, status: nil, limit: 10).isEmpty)
        await denying.upstream.shutdown()
    }

    @Test("fail closed: when the approvals store fails, a held call and a retry are denied approval_unavailable and nothing is forwarded")
    func storeFailure() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("approvals-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let approvals = try SQLiteIdentityStore(dataDirectory: directory)
        let records = InMemoryIdentityStore()
        let fixture = try await Fixture(recorder: StoreDecisionRecorder(repository: records, ledgerKey: TestKeys.ledgerKey), policies: Self.policies)
        {
            $0.approvals = approvals
        }
        let grant = try await fixture.grant()
        let id = try await Self.hold(fixture, grant: grant)
        _ = try await approvals.decideApproval(id: id, approve: true, by: "alice", note: nil, now: ProofBuilder.now + 10)
        try approvals.close()
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay eve")) == "approval_unavailable")
        #expect(Self.reason(try await Self.echo(fixture, grant: grant, text: "pay bob", approval: id)) == "approval_unavailable")
        #expect(fixture.counted.calls == 0)
        #expect(try await records.decisionRecords(taskID: nil, limit: 10).count == 3)
        await fixture.upstream.shutdown()
    }

    @Test("an @approvable forbid does not hide its tool from tools/list")
    func listing() async throws {
        let policies = #"""
            permit (principal, action == Latch::Action::"CallTool", resource);
            @approvable("every echo needs a person") forbid (principal, action, resource == Latch::Tool::"files.echo");
            """#
        let fixture = try await Self.fixture(InMemoryIdentityStore(), policies: policies)
        let grant = try await fixture.grant()
        let headers = ["mcp-protocol-version": ["2026-07-28"], "mcp-method": ["tools/list"]]
        let body =
            #"{"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}"#
        let listed = MCPGatewayTests.json(await fixture.gateway.handle(try fixture.request(body, grant: grant, headers: headers)))
        #expect(listed?["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["files.echo"], "\(String(describing: listed))")
        await fixture.upstream.shutdown()
    }
}
