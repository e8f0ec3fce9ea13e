import Foundation
import LatchGateway
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

@Suite("latch approvals")
struct ApprovalsCommandTests {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Three approvals in the SQLite store in `<directory>/d`, as a gateway would create them: two
    /// pending (task-1, task-2) for an hour, one of task-1 that expired an hour ago.
    static func writeApprovals(in directory: TemporaryDirectory) async throws -> (pending: Approval, other: Approval, expired: Approval) {
        let now = Self.now()
        let pending = ConformanceValues.approval("appr-1", createdAt: now - 1_000, ttl: 3_600_000)
        let other = ConformanceValues.approval("appr-2", task: "task-2", createdAt: now - 2_000, ttl: 3_600_000)
        let expired = ConformanceValues.approval("appr-old", variant: 1, createdAt: now - 7_200_000, ttl: 3_600_000)
        let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
        defer { try? store.close() }
        for approval in [pending, other, expired] {
            #expect(try await store.createApproval(approval, maxPending: 5, now: approval.createdAt))
        }
        return (pending, other, expired)
    }

    @Test("list prints approvals newest first with their status as of now; --task, --status and --json filter and format")
    func list() async throws {
        let directory = try TemporaryDirectory()
        let written = try await Self.writeApprovals(in: directory)
        let all = try await LatchProcess.run(["approvals", "list", "--data-dir", "d"], in: directory)
        try #require(all.status == 0, "\(all.stderr)")
        try #require(all.stdoutLines.count == 4, "\(all.stdout)")
        #expect(all.stdoutLines[0].hasPrefix("ID "))
        #expect(all.stdoutLines[1].hasPrefix("appr-1    pending  task-1  payments.pay"))
        #expect(all.stdoutLines[1].hasSuffix("payments to a new payee"))
        #expect(all.stdoutLines[2].hasPrefix("appr-2    pending  task-2"))
        #expect(all.stdoutLines[3].hasPrefix("appr-old  expired  task-1"), "past its expiry, though stored pending")

        let task = try await LatchProcess.run(["approvals", "list", "--data-dir", "d", "--task", "task-2", "--json"], in: directory)
        #expect(task.status == 0)
        let listed = try #require(JSONValue(parsing: task.stdout.utf8)?.arrayValue)
        #expect(listed.count == 1 && listed.first?["id"] == .string("appr-2") && listed.first?["digest"] == .string(written.other.digest))
        #expect(listed.first?["expires_at"] == .int(written.other.expiresAt) && listed.first?["decided_by"] == .null)

        let bad = try await LatchProcess.run(["approvals", "list", "--data-dir", "d", "--status", "waiting"], in: directory)
        #expect(bad.status != 0 && bad.stderr.contains("--status must be one of pending, approved, denied, consumed, expired"))
    }

    @Test("approve records who and the note, once: approving again, denying, or deciding an expired or unknown approval exits 1")
    func approve() async throws {
        let directory = try TemporaryDirectory()
        _ = try await Self.writeApprovals(in: directory)
        let approved = try await LatchProcess.run(["approvals", "approve", "appr-1", "--as", "alice", "--note", "known payee", "--data-dir", "d"], in: directory)
        try #require(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout.hasPrefix("approved appr-1"))

        let again = try await LatchProcess.run(["approvals", "approve", "appr-1", "--as", "bob", "--data-dir", "d"], in: directory)
        #expect(again.status == 1)
        #expect(again.stderr.contains("approval appr-1 was already approved by alice"), "\(again.stderr)")
        let deny = try await LatchProcess.run(["approvals", "deny", "appr-1", "--as", "bob", "--data-dir", "d"], in: directory)
        #expect(deny.status == 1 && deny.stderr.contains("already approved"))

        let expired = try await LatchProcess.run(["approvals", "approve", "appr-old", "--as", "alice", "--data-dir", "d"], in: directory)
        #expect(expired.status == 1 && expired.stderr.contains("approval appr-old expired at"), "\(expired.stderr)")
        let unknown = try await LatchProcess.run(["approvals", "approve", "nope", "--as", "alice", "--data-dir", "d"], in: directory)
        #expect(unknown.status == 1 && unknown.stderr.contains("no approval nope"))
        let nameless = try await LatchProcess.run(["approvals", "approve", "appr-2", "--data-dir", "d"], in: directory)
        #expect(nameless.status != 0 && nameless.stderr.contains("--as"), "who decides is required")

        let shown = try await LatchProcess.run(["approvals", "show", "appr-1", "--data-dir", "d"], in: directory)
        try #require(shown.status == 0, "\(shown.stderr)")
        let approval = try #require(JSONValue(parsing: shown.stdout.utf8))
        #expect(approval["status"] == .string("approved") && approval["decided_by"] == .string("alice") && approval["note"] == .string("known payee"))
        let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
        defer { try? store.close() }
        #expect(try await store.approval(id: "appr-old")?.status == .expired, "the refused decision marked it expired")
        #expect(try await store.approval(id: "appr-2")?.status == .pending)
    }

    @Test("deny records the decision; the retry it was for can never use it; show of an unknown ID exits 1")
    func deny() async throws {
        let directory = try TemporaryDirectory()
        let written = try await Self.writeApprovals(in: directory)
        let denied = try await LatchProcess.run(["approvals", "deny", "appr-2", "--as", "carol", "--data-dir", "d"], in: directory)
        try #require(denied.status == 0, "\(denied.stderr)")
        #expect(denied.stdout.hasPrefix("denied appr-2"))
        let approve = try await LatchProcess.run(["approvals", "approve", "appr-2", "--as", "carol", "--data-dir", "d"], in: directory)
        #expect(approve.status == 1 && approve.stderr.contains("was already denied by carol"))
        let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
        defer { try? store.close() }
        guard case .refused(let current) = try await store.consumeApproval(id: "appr-2", digest: written.other.digest, now: Self.now()) else {
            Issue.record("a denied approval is not consumed")
            return
        }
        #expect(current.status == .denied && current.decidedBy == "carol")
        let missing = try await LatchProcess.run(["approvals", "show", "missing", "--data-dir", "d"], in: directory)
        #expect(missing.status == 1 && missing.stderr.contains("no approval missing"))
    }
}
