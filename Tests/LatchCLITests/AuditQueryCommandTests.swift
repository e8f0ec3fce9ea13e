import Crypto
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

@Suite("latch audit query, trace and export")
struct AuditQueryCommandTests {
    static let base: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z
    static let agentA = "spiffe://latch.local/agents/a"
    static let agentB = "spiffe://latch.local/agents/b"
    static let trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    /// A task that delegated and was revoked, written through the SQLite store in `<directory>/d`
    /// as a server writes it: a root grant held by agent a, a grant delegated to agent b, calls of
    /// both (one forwarded with its outcome, one denied by policy, one stopped by the guard), then
    /// the delegated grant revoked, and a second task's call an hour later.
    static func writeTask(in directory: TemporaryDirectory) async throws {
        let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
        defer { try? store.close() }
        let a = try SPIFFEID(parsing: Self.agentA)
        let b = try SPIFFEID(parsing: Self.agentB)
        let scope = GrantScope(tools: ["mail.send", "reports.read"], dataDomains: ["reports"], destinations: ["internal"], maxSensitivity: .confidential)
        let root = TaskGrant(
            id: "grant-root", taskID: "task-1", subject: a, audience: ["latch"], intent: "summarize the reports", scope: scope,
            issuedAt: Self.base, expiresAt: Self.base + 3_600_000, keyThumbprint: "thumb-a")
        var narrower = scope
        narrower.tools = ["reports.read"]
        let delegated = TaskGrant(
            id: "grant-b", taskID: "task-1", subject: a, actors: [b], audience: ["latch"], intent: "summarize the reports", scope: narrower,
            issuedAt: Self.base + 1_000, expiresAt: Self.base + 1_800_000, ancestors: ["grant-root"], depth: 1, keyThumbprint: "thumb-b")
        try await store.saveGrants([root, delegated])
        func record(_ id: String, _ at: Int64, grant: String, agent: String, tool: String, allowed: Bool = true) -> DecisionRecord {
            DecisionRecord(
                id: id, time: Self.base + at, taskID: "task-1", grantID: grant, agent: agent, subject: Self.agentA,
                actors: agent == Self.agentB ? [Self.agentB] : [], method: "tools/call", tool: tool, allowed: allowed)
        }
        var read = record("call-read", 2_000, grant: "grant-b", agent: Self.agentB, tool: "reports.read")
        read.promptHMAC = String(repeating: "ab", count: 32)
        read.policies = ["read-reports"]
        read.upstreamOutcome = "forwarded"
        read.traceID = Self.trace
        var outcome = record("call-read-outcome", 2_050, grant: "grant-b", agent: Self.agentB, tool: "reports.read")
        outcome.upstreamOutcome = "ok"
        outcome.decisionID = "call-read"
        outcome.traceID = Self.trace
        outcome.latencyMicros = 50_000
        var mail = record("call-mail", 3_000, grant: "grant-root", agent: Self.agentA, tool: "mail.send", allowed: false)
        mail.reason = "policy_denied"
        mail.policies = ["no-external-mail"]
        var guarded = record("call-guarded", 4_000, grant: "grant-b", agent: Self.agentB, tool: "reports.read", allowed: false)
        guarded.reason = "guard_denied"
        guarded.policies = ["guard/rate"]
        var other = DecisionRecord(
            id: "other-task", time: Self.base + 3_600_000, taskID: "task-2", grantID: "grant-2", agent: Self.agentA, subject: Self.agentA,
            actors: [], method: "tools/list", allowed: true)
        other.traceID = "0af7651916cd43dd8448eb211c80319c"
        try await store.saveDecisionRecords([read, outcome, mail], ledgerKey: TestKeys.ledgerKey)
        try await store.saveDecisionRecords([guarded, other], ledgerKey: TestKeys.ledgerKey)
        _ = try await store.revoke([GrantRevocation(grantID: "grant-b", reason: .revoked, revokedAt: Self.base + 5_000, expiresAt: delegated.expiresAt)])
    }

    static func ids(_ arguments: [String], in directory: TemporaryDirectory) async throws -> [String] {
        let result = try await LatchProcess.run(["audit", "query", "--data-dir", "d", "--json"] + arguments, in: directory)
        try #require(result.status == 0, "\(arguments): \(result.stderr)")
        let array = try #require(JSONValue(parsing: result.stdout.utf8)?.arrayValue)
        return array.compactMap { $0["record"]?["id"]?.stringValue }
    }

    @Test("query filters by agent, task, grant, tool, decision, reason, time range and trace ID; lines like list; bad input exits non-zero")
    func query() async throws {
        let directory = try TemporaryDirectory()
        try await Self.writeTask(in: directory)
        let all = ["other-task", "call-guarded", "call-mail", "call-read-outcome", "call-read"]
        await #expect(try Self.ids([], in: directory) == all)
        await #expect(try Self.ids(["--oldest-first"], in: directory) == all.reversed())
        await #expect(try Self.ids(["--agent", Self.agentB], in: directory) == ["call-guarded", "call-read-outcome", "call-read"])
        await #expect(try Self.ids(["--task", "task-2"], in: directory) == ["other-task"])
        await #expect(try Self.ids(["--grant", "grant-root"], in: directory) == ["call-mail"])
        await #expect(try Self.ids(["--tool", "reports.read"], in: directory) == ["call-guarded", "call-read-outcome", "call-read"])
        await #expect(try Self.ids(["--decision", "denied"], in: directory) == ["call-guarded", "call-mail"])
        await #expect(try Self.ids(["--decision", "allowed", "--task", "task-1"], in: directory) == ["call-read-outcome", "call-read"])
        await #expect(try Self.ids(["--reason", "guard_denied"], in: directory) == ["call-guarded"])
        await #expect(try Self.ids(["--trace", Self.trace], in: directory) == ["call-read-outcome", "call-read"])
        await #expect(try Self.ids(["--since", "2026-01-01T00:00:03Z", "--until", "2026-01-01T00:00:04.000Z"], in: directory) == ["call-mail"])
        await #expect(try Self.ids(["--since", "2026-01-01T01:00:00+01:00", "--until", "2026-01-02"], in: directory) == all)
        await #expect(try Self.ids(["--since", "1h"], in: directory) == [], "relative: the records are from 2026-01-01, long before now")
        await #expect(try Self.ids(["--until", "1h", "--limit", "2"], in: directory) == ["other-task", "call-guarded"])

        // JSON carries each record's ledger index.
        let json = try await LatchProcess.run(["audit", "query", "--data-dir", "d", "--json", "--task", "task-2"], in: directory)
        let first = try #require(JSONValue(parsing: json.stdout.utf8)?.arrayValue?.first)
        #expect(first["ledger_index"] == .int(4))
        #expect(try DecisionRecord(json: try #require(first["record"])).id == "other-task")

        let text = try await LatchProcess.run(["audit", "query", "--data-dir", "d", "--decision", "denied"], in: directory)
        #expect(text.status == 0)
        #expect(
            text.stdoutLines == [
                "2026-01-01T00:00:04.000Z  denied  guard_denied   spiffe://latch.local/agents/b  reports.read  task-1  call-guarded",
                "2026-01-01T00:00:03.000Z  denied  policy_denied  spiffe://latch.local/agents/a  mail.send     task-1  call-mail",
            ], "\(text.stdout)")

        for (arguments, message) in [
            (["--decision", "maybe"], "--decision must be allowed or denied"), (["--since", "yesterday"], "--since"),
            (["--until", "12x"], "--until"), (["--limit", "0"], "--limit must be positive"),
        ] {
            let bad = try await LatchProcess.run(["audit", "query", "--data-dir", "d"] + arguments, in: directory)
            #expect(bad.status != 0 && bad.stderr.contains(message), "\(arguments): \(bad.stderr)")
        }
    }

    @Test("trace tells a task that delegated and was revoked: grants, calls with decisions, policies, guard and outcome, the revocation")
    func trace() async throws {
        let directory = try TemporaryDirectory()
        try await Self.writeTask(in: directory)
        let text = try await LatchProcess.run(["audit", "trace", "task-1", "--data-dir", "d"], in: directory)
        try #require(text.status == 0, "\(text.stderr)")
        let lines = text.stdoutLines
        #expect(lines.count == 8, "\(text.stdout)")
        #expect(lines.first?.hasPrefix("task task-1  subject \(Self.agentA)  intent \"summarize the reports\"") == true, "\(text.stdout)")
        let expected: [[String]] = [
            ["2026-01-01T00:00:00.000Z  grant grant-root (root, depth 0) to \(Self.agentA)", "scope tools=[mail.send,reports.read]"],
            ["2026-01-01T00:00:01.000Z  grant grant-b (delegated from grant-root, depth 1) to \(Self.agentB)", "actors \(Self.agentB)",
                "scope tools=[reports.read]"],
            ["2026-01-01T00:00:02.000Z  call tools/call reports.read by \(Self.agentB)", "prompt hmac abababababababab", "allowed",
                "policies read-reports", "trace \(Self.trace)", "[call-read]", "-> upstream ok after 50000 us"],
            ["2026-01-01T00:00:03.000Z  call tools/call mail.send by \(Self.agentA)", "denied policy_denied", "policies no-external-mail", "[call-mail]"],
            ["2026-01-01T00:00:04.000Z  call tools/call reports.read by \(Self.agentB)", "denied guard_denied", "guard guard/rate", "[call-guarded]"],
            ["2026-01-01T00:00:05.000Z  grant grant-b revoked (and every grant delegated from it)"],
            // Never revoked, the root grant ran out an hour after issue.
            ["2026-01-01T01:00:00.000Z  grant grant-root expired"],
        ]
        for (line, parts) in zip(lines.dropFirst(), expected) {
            #expect(parts.allSatisfy { line.contains($0) }, "\(line) should contain \(parts)")
        }

        let json = try await LatchProcess.run(["audit", "trace", "task-1", "--data-dir", "d", "--json"], in: directory)
        try #require(json.status == 0, "\(json.stderr)")
        let story = try #require(JSONValue(parsing: json.stdout.utf8))
        #expect(story["task"]?["root_grant_id"] == .string("grant-root"))
        let tree = try #require(story["delegation_tree"]?.arrayValue)
        #expect(tree.count == 1 && tree.first?["id"] == .string("grant-root"))
        #expect(tree.first?["children"]?.arrayValue?.first?["id"] == .string("grant-b"))
        #expect(tree.first?["children"]?.arrayValue?.first?["status"] == .string("revoked"))
        let events = try #require(story["events"]?.arrayValue)
        #expect(events.compactMap { $0["kind"]?.stringValue } == ["grant", "delegation", "call", "call", "call", "revocation", "expiry"])
        #expect(events[2]["outcome"]?["record"]?["upstream"] == .string("ok"))
        #expect(events[2]["decision"]?["ledger_index"] == .int(0))
        #expect(events[4]["guard"] == .array([.string("guard/rate")]))
        #expect(events[5]["reason"] == .string("revoked") && events[5]["grant_id"] == .string("grant-b"))

        let missing = try await LatchProcess.run(["audit", "trace", "task-9", "--data-dir", "d"], in: directory)
        #expect(missing.status == 1 && missing.stderr.contains("no task task-9"))
    }

    @Test("the demo's completed task traces to its end; export of its data directory is valid JSONL and OCSF")
    func demoTraceAndExport() async throws {
        let directory = try TemporaryDirectory()
        let demo = try await LatchProcess.run(["demo", "--data-dir", "kept"], in: directory)
        try #require(demo.status == 0, "\(demo.stdout)\(demo.stderr)")
        let listed = try await LatchProcess.run(["audit", "query", "--data-dir", "kept", "--json", "--limit", "1"], in: directory)
        let task = try #require(JSONValue(parsing: listed.stdout.utf8)?.arrayValue?.first?["record"]?["task_id"]?.stringValue)
        let traced = try await LatchProcess.run(["audit", "trace", task, "--data-dir", "kept"], in: directory)
        try #require(traced.status == 0, "\(traced.stderr)")
        #expect(traced.stdoutLines.first?.contains("ended completed") == true, "\(traced.stdout)")
        #expect(traced.stdoutLines.last?.contains("completed (and every grant delegated from it)") == true, "\(traced.stdout)")
        #expect(traced.stdoutLines.filter { $0.contains("  call ") }.count == 6, "six decisions, outcomes joined: \(traced.stdout)")

        // JSONL: every line parses; its record is the stored leaf, byte for byte, and its leaf hash
        // is SHA-256(0x00 ‖ record bytes) (RFC 9162), computed here with swift-crypto alone.
        let jsonl = try await LatchProcess.run(["audit", "export", "--data-dir", "kept", "--format", "jsonl"], in: directory)
        try #require(jsonl.status == 0, "\(jsonl.stderr)")
        #expect(jsonl.stdoutLines.count == 10)
        for (number, line) in jsonl.stdoutLines.enumerated() {
            let parsed = try #require(JSONValue(parsing: line.utf8), "line \(number) parses")
            #expect(parsed["ledger_index"] == .int(Int64(number)))
            let prefix = "{\"leaf_hash\":\"\(parsed["leaf_hash"]?.stringValue ?? "")\",\"ledger_index\":\(number),\"record\":"
            #expect(line.hasPrefix(prefix) && line.hasSuffix("}"))
            let recordBytes = Array(line.utf8.dropFirst(prefix.utf8.count).dropLast())
            let leafHash = Array(SHA256.hash(data: [0] + recordBytes))
            #expect(parsed["leaf_hash"]?.stringValue.flatMap { Base64URL.decodeStandard($0) } == leafHash, "line \(number)")
            #expect(JSONValue(parsing: recordBytes)?.serializedBytes == recordBytes, "the record is canonical JSON")
            _ = try DecisionRecord(json: try #require(parsed["record"]))
        }
        let file = try await LatchProcess.run(["audit", "export", "--data-dir", "kept", "--output", "out.jsonl"], in: directory)
        #expect(file.status == 0 && file.stdout.isEmpty && file.stderr.contains("exported 10 records"), "\(file.stderr)")
        let written = try String(contentsOf: directory.url.appendingPathComponent("out.jsonl"), encoding: .utf8)
        #expect(written == jsonl.stdout)
        let none = try await LatchProcess.run(["audit", "export", "--data-dir", "kept", "--since", "1h", "--until", "30m"], in: directory)
        #expect(none.status == 0 && none.stdout.isEmpty, "the demo's records are from now, not an hour ago")

        // OCSF: API Activity events with every attribute the class and its objects require.
        let ocsf = try await LatchProcess.run(["audit", "export", "--data-dir", "kept", "--format", "ocsf"], in: directory)
        try #require(ocsf.status == 0, "\(ocsf.stderr)")
        #expect(ocsf.stdoutLines.count == 10)
        var denied = 0
        for line in ocsf.stdoutLines {
            let event = try #require(JSONValue(parsing: line.utf8))
            for key in ["activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "actor", "api", "src_endpoint"] {
                #expect(event[key] != nil, "\(key) in \(line)")
            }
            #expect(event["class_uid"] == .int(6003) && event["category_uid"] == .int(6))
            let activity = try #require(event["activity_id"].flatMap { if case .int(let value) = $0 { value } else { nil } })
            #expect(event["type_uid"] == .int(600_300 + activity))
            #expect(event["metadata"]?["version"] == .string("1.3.0") && event["metadata"]?["product"]?["name"] != nil)
            #expect(event["api"]?["operation"]?.stringValue != nil && event["actor"]?["user"]?["uid"]?.stringValue != nil)
            #expect(event["unmapped"]?["prompt_sealed"] == nil && event["unmapped"]?["arguments_sealed"] == nil, "sealed values are not exported")
            if event["disposition_id"] == .int(2) {
                denied += 1
                #expect(event["status_id"] == .int(2) && event["action_id"] == .int(2) && event["status_detail"]?.stringValue != nil)
            }
        }
        #expect(denied == 2)
    }
}
