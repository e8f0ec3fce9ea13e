import Foundation
import LatchGateway
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

@Suite("latch audit")
struct AuditCommandTests {
    /// Records of two tasks written through the SQLite store in `<directory>/d`, as a server would.
    static func writeRecords(in directory: TemporaryDirectory) async throws -> [DecisionRecord] {
        let denied = DecisionRecord(
            id: "dec-denied", time: 1_767_225_600_123, taskID: "task-1", grantID: "grant-1", agent: "spiffe://latch.local/agents/b",
            subject: "spiffe://latch.local/agents/a", actors: ["spiffe://latch.local/agents/b"], method: "tools/call", tool: "mail.send",
            argumentsHMAC: String(repeating: "a1", count: 32), promptHMAC: String(repeating: "b2", count: 32),
            allowed: false, reason: "policy_denied", message: "forbidden by no-external-mail",
            policies: ["no-external-mail"], destination: "external", traceID: "4bf92f3577b34da6a3ce929d0e0e4736", latencyMicros: 812)
        let allowed = DecisionRecord(
            id: "dec-allowed", time: 1_767_225_601_000, taskID: "task-1", grantID: "grant-1", agent: "spiffe://latch.local/agents/a",
            subject: "spiffe://latch.local/agents/a", actors: [], method: "tools/call", tool: "reports.read",
            allowed: true, policies: ["read-reports"], upstreamOutcome: "ok", latencyMicros: 2_050)
        let other = DecisionRecord(
            id: "dec-other", time: 946_684_799_999, taskID: "task-2", grantID: "grant-2", agent: "spiffe://latch.local/agents/c",
            subject: "spiffe://latch.local/agents/c", actors: [], method: "tools/call", tool: "evil\ntool", allowed: false,
            reason: "unknown_tool")
        let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
        defer { try? store.close() }
        try await store.saveDecisionRecords([denied, allowed], ledgerKey: TestKeys.ledgerKey)
        try await store.saveDecisionRecords([other], ledgerKey: TestKeys.ledgerKey)
        return [allowed, denied, other]
    }

    @Test("list prints one line per record, newest first; --task keeps one task's; --limit bounds them")
    func textOutput() async throws {
        let directory = try TemporaryDirectory()
        _ = try await Self.writeRecords(in: directory)

        let all = try await LatchProcess.run(["audit", "list", "--data-dir", "d"], in: directory)
        try #require(all.status == 0, "\(all.stderr)")
        #expect(
            all.stdoutLines == [
                "2026-01-01T00:00:01.000Z  allowed  -              spiffe://latch.local/agents/a  reports.read   task-1  dec-allowed",
                "2026-01-01T00:00:00.123Z  denied   policy_denied  spiffe://latch.local/agents/b  mail.send      task-1  dec-denied",
                "1999-12-31T23:59:59.999Z  denied   unknown_tool   spiffe://latch.local/agents/c  evil\\u{a}tool  task-2  dec-other",
            ])

        let task = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--task", "task-2"], in: directory)
        #expect(task.status == 0)
        #expect(task.stdoutLines.count == 1)
        #expect(task.stdout.hasSuffix("task-2  dec-other\n"))

        let limited = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--limit", "1"], in: directory)
        #expect(limited.stdoutLines.count == 1)
        #expect(limited.stdout.hasSuffix("dec-allowed\n"))

        let none = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--task", "task-9"], in: directory)
        #expect(none.status == 0)
        #expect(none.stdout.isEmpty)

        let bad = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--limit", "0"], in: directory)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--limit must be positive"))
    }

    @Test("list --json prints a JSON array of the records' canonical JSON, newest first, filtered by --task")
    func jsonOutput() async throws {
        let directory = try TemporaryDirectory()
        let records = try await Self.writeRecords(in: directory)

        let all = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--json"], in: directory)
        try #require(all.status == 0, "\(all.stderr)")
        #expect(all.stdoutLines.count == 1)
        #expect(all.stdout == JSONValue.array(records.map(\.json)).serialized + "\n", "canonical JSON, byte for byte")
        let parsed = try #require(JSONValue(parsing: all.stdout.utf8)?.arrayValue)
        #expect(try parsed.map { try DecisionRecord(json: $0) } == records)

        let task = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--json", "--task", "task-1"], in: directory)
        #expect(task.status == 0)
        let taskRecords = try #require(JSONValue(parsing: task.stdout.utf8)?.arrayValue)
        #expect(try taskRecords.map { try DecisionRecord(json: $0) } == Array(records.prefix(2)))

        let none = try await LatchProcess.run(["audit", "list", "--data-dir", "d", "--json", "--task", "task-9"], in: directory)
        #expect(none.stdout == "[]\n")
    }
}
