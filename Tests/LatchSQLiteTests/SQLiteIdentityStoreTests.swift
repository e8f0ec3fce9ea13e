import Foundation
import GRDB
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchSecrets
import LatchStoreSupport
import LatchTesting
import Synchronization
import Testing

@testable import LatchSQLite

@Suite("SQLiteIdentityStore")
struct SQLiteIdentityStoreTests {
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test("a data directory holds latch.sqlite with mode 0600 (and its WAL files and open lock), the directory 0700")
    func layoutAndPermissions() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let nested = fixture.dataDirectory + "/nested/data"
        let store = try SQLiteIdentityStore(dataDirectory: nested)
        defer { try? store.close() }
        try await store.createEntry(try ConformanceValues.entry("e", selectors: ["unix:uid:1"]))
        #expect(store.path == nested + "/latch.sqlite")
        #expect(try self.mode(nested) == 0o700)
        for file in ["latch.sqlite", "latch.sqlite-wal", "latch.sqlite-shm", "latch.sqlite-open-lock"] {
            let path = nested + "/" + file
            #expect(FileManager.default.fileExists(atPath: path), "\(file) exists")
            #expect(try self.mode(path) == 0o600, "\(file) mode")
        }
    }

    @Test("an existing world-readable file is narrowed to 0600 when opened")
    func narrowsPermissions() throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
        let path = fixture.dataDirectory + "/latch.sqlite"
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        let store = try SQLiteIdentityStore(path: path)
        defer { try? store.close() }
        #expect(try self.mode(path) == 0o600)
    }

    @Test("a data directory path that is a file is a configuration error")
    func dataDirectoryIsAFile() throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
        let file = fixture.dataDirectory + "/plain"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(throws: LatchError(.configuration, "")) { try SQLiteIdentityStore(dataDirectory: file) }
    }

    @Test("a file that is not SQLite is an I/O error, not a crash")
    func notADatabase() throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
        let path = fixture.dataDirectory + "/latch.sqlite"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x42, count: 4096)))
        #expect(throws: LatchError(.io, "")) { try SQLiteIdentityStore(path: path) }
    }

    @Test("the journal is WAL and the writer syncs every commit (synchronous=FULL)")
    func durabilitySettings() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let (journal, synchronous) = try await store.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2, "2 is FULL")
    }

    static let allMigrations = ["1 identity store", "2 keys revision", "3 grants", "4 secrets", "5 decision records", "6 tool pins", "7 ledger", "8 decision record queries", "9 approvals", "10 one task index for grants", "11 approval contents and operators", "12 quarantines", "13 grant queries through the task index", "14 grant columns from claims", "15 egress paths sealed"]

    @Test("migrations are recorded once and not re-applied on reopen")
    func migrationsRecorded() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        for _ in 0..<2 {
            let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
            #expect(try await store.appliedMigrations() == Self.allMigrations)
            try store.close()
        }
    }

    @Test("stores opened at once on a new data directory (processes starting together) all open, and each migration runs once")
    func concurrentFirstOpens() async throws {
        // Each open blocks its thread (the store's init is synchronous), so the opens run on
        // threads of their own, not on the test's cooperative pool.
        for round in 0..<5 {
            let fixture = SQLiteFixture()
            defer { fixture.remove() }
            let failures = Mutex<[String]>([])
            let group = DispatchGroup()
            for _ in 0..<6 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
                        try store.close()
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
            await withCheckedContinuation { continuation in group.notify(queue: .global()) { continuation.resume() } }
            #expect(failures.withLock { $0 }.isEmpty, "round \(round): \(failures.withLock { $0 })")
            let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
            defer { try? store.close() }
            #expect(try await store.appliedMigrations() == Self.allMigrations)
        }
    }

    @Test("the open lock belongs to the database's owner, so a command run as root does not lock the service out")
    func openLockOwner() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let path = fixture.dataDirectory + "/latch.sqlite"
        try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory).close()
        try FileManager.default.removeItem(atPath: path + "-open-lock")
        // As root (as CI runs), hand the database to another user first: the new lock follows it.
        let owner: uid_t = getuid() == 0 ? 4242 : getuid()
        if getuid() == 0 { #expect(chown(path, owner, owner) == 0) }
        try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory).close()
        let attributes = try FileManager.default.attributesOfItem(atPath: path + "-open-lock")
        #expect((attributes[.ownerAccountID] as? NSNumber)?.uint32Value == owner)
        #expect(try self.mode(path + "-open-lock") == 0o600)
    }

    @Test("upgrading a file with keys starts the keys revision past what a version-1 node published; an empty one at 0")
    func keysRevisionUpgrade() async throws {
        for (notAfters, expected) in [([Int64](), Int64(0)), ([1_700_000_000_999, 1_800_000_000_500], 1_800_000_000)] {
            let fixture = SQLiteFixture()
            defer { fixture.remove() }
            try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
            let path = fixture.dataDirectory + "/" + SQLiteIdentityStore.fileName
            let old = try DatabasePool(path: path)
            try SQLiteIdentityStore.migrator.migrate(old, upTo: "1 identity store")
            try await old.write { db in
                for (index, notAfter) in notAfters.enumerated() {
                    try db.execute(
                        sql: """
                            INSERT INTO ca_keys (key_id, purpose, state, sealed_private_key, not_before, not_after, created_at)
                            VALUES (?, 'jwt-signing', 'active', x'01', 0, ?, 0)
                            """,
                        arguments: ["k\(index)", notAfter])
                }
            }
            try old.close()
            let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
            #expect(try await store.appliedMigrations() == Self.allMigrations)
            #expect(try await store.keysRevision() == expected)
            #expect(try await store.entriesRevision() == 0)
            try store.close()
        }
    }

    @Test("migration 8 copies each stored record's trace ID into its new column, so the query finds records stored before it")
    func traceIDBackfill() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
        let old = try DatabasePool(path: fixture.dataDirectory + "/" + SQLiteIdentityStore.fileName)
        try SQLiteIdentityStore.migrator.migrate(old, upTo: "7 ledger")
        var record = ConformanceValues.fullDecisionRecord("traced")
        record.traceID = "0af7651916cd43dd8448eb211c80319c"
        let traced = record
        let untraced = ConformanceValues.decisionRecord("untraced")
        try await old.write { db in
            for (index, record) in [traced, untraced].enumerated() {
                let row = DecisionRecordRow(record)
                try db.execute(
                    sql: """
                        INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record, leaf_index)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [row.id, row.time, row.taskID, row.grantID, row.agent, row.tool, row.allowed, row.reason, row.record, index])
            }
        }
        try old.close()
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let found = try await store.decisionRecords(matching: DecisionRecordQuery(traceID: "0af7651916cd43dd8448eb211c80319c"))
        #expect(found == [IndexedDecisionRecord(record: traced, ledgerIndex: 0)])
        #expect(try await store.decisionRecords(matching: DecisionRecordQuery(limit: 10)).map(\.record) == [untraced, traced].sorted { $0.id > $1.id })
    }

    @Test("migration 14 drops the grant columns the claims repeat: grants and tasks stored before it read back the same")
    func grantColumnsDropped() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try FileManager.default.createDirectory(atPath: fixture.dataDirectory, withIntermediateDirectories: true)
        let old = try DatabasePool(path: fixture.dataDirectory + "/" + SQLiteIdentityStore.fileName)
        try SQLiteIdentityStore.migrator.migrate(old, upTo: "12 quarantines")
        let chain = try ConformanceValues.grantChain()
        try await old.write { db in
            for grant in chain {
                try db.execute(
                    sql: """
                        INSERT INTO grants (id, task_id, parent_id, subject, holder, depth, intent, claims, issued_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        grant.id, grant.taskID, grant.parentID, grant.subject.description, grant.holder.description, grant.depth, grant.intent,
                        String(decoding: GrantRecord(grant).claims, as: UTF8.self), grant.issuedAt, grant.expiresAt,
                    ])
            }
            try db.execute(
                sql: "INSERT INTO grant_revocations (grant_id, reason, revoked_at, expires_at, revision) VALUES ('root', 'completed', ?, ?, 1)",
                arguments: [ConformanceValues.grantTime + 1_000, ConformanceValues.grantTime + 600_000])
        }
        try old.close()
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        #expect(try await store.appliedMigrations() == Self.allMigrations)
        let columns = try await store.pool.read { db in try db.columns(in: "grants").map(\.name) }
        #expect(columns == ["id", "task_id", "parent_id", "depth", "claims", "issued_at", "expires_at"])
        #expect(try await store.grants(taskID: "task-1") == chain)
        #expect(try await store.task(id: "task-1") == (try ConformanceValues.grantChainTask()))
        // New rows go in without the dropped columns.
        try await store.saveGrants([try ConformanceValues.grant("root-2", task: "task-2")])
        #expect(try await store.task(id: "task-2")?.rootGrantID == "root-2")
    }

    @Test("migration 15 takes the egress path out of approvals stored before it, and nothing else")
    func approvalPathsSealed() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let (before, after) = ConformanceValues.approvalsWithEgressPaths()
        do {
            let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
            for approval in before { _ = try await store.createApproval(approval, maxPending: 10, now: approval.createdAt) }
            // Back to before migration 15 (its rows as an older version left them).
            try await store.pool.write { db in try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = '15 egress paths sealed'") }
            #expect(try await store.approval(id: "egress")?.risk == before[0].risk)
            try store.close()
        }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        #expect(try await store.appliedMigrations() == Self.allMigrations)
        for approval in after { #expect(try await store.approval(id: approval.id) == approval, "\(approval.id)") }
    }

    @Test("a file migrated by a newer Latch is refused with a configuration error")
    func refusesNewerSchema() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('999 from the future')")
        }
        try store.close()
        #expect(throws: LatchError(.configuration, "")) { try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory) }
    }

    @Test("a change committed through another connection (as another process would) bumps the revision")
    func revisionSeesForeignWrites() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let before = try await store.entriesRevision()
        // A plain connection on the same file, outside the store (like `latch entry create` in another process).
        let other = try DatabaseQueue(path: store.path)
        try await SQLiteIdentityStore(path: store.path).createEntry(try ConformanceValues.entry("o", selectors: ["unix:uid:5"]))
        let revisionSeenByOther = try await other.read { db in
            try Int64.fetchOne(db, sql: "SELECT revision FROM store_revisions WHERE name = 'entries'")
        }
        try other.close()
        #expect(try await store.entriesRevision() == before + 1)
        #expect(revisionSeenByOther == before + 1)
        #expect(try await store.entry(id: "o") != nil)
    }

    @Test("a hand-edited row that no longer parses is reported, not skipped")
    func corruptRowReported() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        try await store.createEntry(try ConformanceValues.entry("bad", selectors: ["unix:uid:1"]))
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE registration_entries SET spiffe_id = 'spiffe://UPPER/x' WHERE id = 'bad'")
        }
        await #expect(throws: LatchError(.internalError, "")) { try await store.listEntries() }
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE registration_entries SET spiffe_id = 'spiffe://example.org/x', attributes = '{\"a\":1.5}'")
        }
        await #expect(throws: LatchError(.internalError, "")) { try await store.entry(id: "bad") }
    }

    @Test("a hand-edited secret row whose name is not a secret name is reported, not skipped")
    func corruptSecretRowReported() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        try await store.saveSecret(try ConformanceValues.secret("fine"))
        try await store.pool.write { db in
            try db.execute(sql: "INSERT INTO secrets (name, sealed_value, created_at, updated_at) VALUES ('bad name', x'00', 0, 0)")
        }
        await #expect(throws: LatchError(.internalError, "")) { try await store.listSecrets() }
        #expect(try await store.secret(named: SecretName(parsing: "fine")) != nil)
    }

    @Test("a hand-edited grant or revocation row that no longer decodes is reported, not skipped (the task view too)")
    func corruptGrantRowsReported() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        try await store.saveGrants(try ConformanceValues.grantChain())
        _ = try await store.revoke([ConformanceValues.revocation("root")])
        try await store.pool.write { db in
            try db.execute(sql: "UPDATE grants SET claims = '{\"jti\":' WHERE id = 'child'")
            try db.execute(sql: "UPDATE grants SET claims = (SELECT claims FROM grants WHERE id = 'root') WHERE id = 'grandchild'")
            try db.execute(sql: "UPDATE grant_revocations SET reason = 'expired'")
        }
        #expect(try await store.grant(id: "root") != nil)
        await #expect(throws: LatchError(.internalError, "")) { try await store.grant(id: "child") }
        await #expect(throws: LatchError(.internalError, ""), "claims of another grant") { try await store.grant(id: "grandchild") }
        await #expect(throws: LatchError(.internalError, "")) { try await store.grants(taskID: "task-1") }
        await #expect(throws: LatchError(.internalError, "")) { try await store.listGrants(activeAt: nil, limit: 10) }
        await #expect(throws: LatchError(.internalError, "")) { try await store.task(id: "task-1") }
        await #expect(throws: LatchError(.internalError, "")) { try await store.revocations(notExpiredAt: 0) }
    }
}
