import Foundation
import GRDB
import LatchCore
public import LatchGrants
import LatchStoreSupport

extension SQLiteIdentityStore: GrantRepository {
    /// One write transaction for the whole batch, with a cached prepared statement: the caller
    /// group-commits many issuances into one call, so this is one `fsync` for hundreds of grants.
    /// One row per grant: a task is its root grant (the `grant_tasks` view).
    public func saveGrants(_ records: [GrantRecord]) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        try await self.pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO grants (id, task_id, parent_id, depth, claims, issued_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            for record in records { try Self.insert(record, with: insert, db) }
        }
    }

    /// Binds one grant's columns to `statement` (``SQLiteRowInsert``) and runs it.
    private static func insert(_ record: GrantRecord, with statement: Statement, _ db: Database) throws {
        let grant = record.grant
        do {
            try SQLiteRowInsert.run(statement, db) { row in
                try row.text(1, grant.id)
                try row.text(2, grant.taskID)
                try row.text(3, grant.parentID)
                try row.int64(4, Int64(grant.depth))
                try row.text(5, utf8: record.claims)
                try row.int64(6, grant.issuedAt)
                try row.int64(7, grant.expiresAt)
            }
        } catch let error as DatabaseError {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY: throw LatchError(.conflict, "a grant with id \(grant.id) already exists")
            case .SQLITE_CONSTRAINT_UNIQUE: throw LatchError(.conflict, "task \(grant.taskID) already has a root grant")
            default: throw error
            }
        }
    }

    public func grant(id: String) async throws -> TaskGrant? {
        try await self.grants(sql: "SELECT \(GrantRows.columns) FROM grants WHERE id = ?", arguments: [id]).first
    }

    public func grants(taskID: String) async throws -> [TaskGrant] {
        try await self.grants(
            sql: "SELECT \(GrantRows.columns) FROM grants WHERE task_id = ? ORDER BY issued_at, depth, id", arguments: [taskID])
    }

    public func listGrants(activeAt: Int64?, limit: Int) async throws -> [TaskGrant] {
        if let activeAt {
            return try await self.grants(
                sql: "SELECT \(GrantRows.columns) FROM grants WHERE expires_at > ? ORDER BY issued_at DESC, id DESC LIMIT ?",
                arguments: [activeAt, max(0, limit)])
        }
        return try await self.grants(
            sql: "SELECT \(GrantRows.columns) FROM grants ORDER BY issued_at DESC, id DESC LIMIT ?", arguments: [max(0, limit)])
    }

    public func task(id: String) async throws -> GrantTask? {
        try await self.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(GrantRows.taskColumns) FROM grant_tasks WHERE task_id = ?", arguments: [id]).map { row in
                try GrantRows.task(
                    taskID: row[0], claims: row[1], rootGrantID: row[2], createdAt: row[3], expiresAt: row[4], endedAt: row[5],
                    endReason: row[6])
            }
        }
    }

    /// One write transaction: each revocation is inserted unless its grant is revoked already
    /// (the first stays). A root grant's revocation ends its task (the `grant_tasks` view joins them).
    public func revoke(_ revocations: [GrantRevocation]) async throws -> [GrantRevocation] {
        guard !revocations.isEmpty else { return [] }
        for revocation in revocations { try StoreValidation.validate(revocation) }
        return try await self.pool.write { db in
            // The write transaction excludes other writers: the revision this call will set is the
            // current one plus one, and its rows carry it.
            let revision =
                (try Int64.fetchOne(
                    db, sql: "SELECT revision FROM store_revisions WHERE name = ?", arguments: [StoreSchema.revocationsRevisionName]) ?? 0)
                + 1
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO grant_revocations (grant_id, reason, revoked_at, expires_at, revision) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (grant_id) DO NOTHING
                    """)
            var recorded: [GrantRevocation] = []
            for revocation in revocations {
                try insert.execute(arguments: [
                    revocation.grantID, revocation.reason.rawValue, revocation.revokedAt, revocation.expiresAt, revision,
                ])
                guard db.changesCount == 1 else { continue }
                recorded.append(revocation)
            }
            if !recorded.isEmpty { try Self.bumpRevision(StoreSchema.revocationsRevisionName, db) }
            return recorded
        }
    }

    public func revocation(grantID: String) async throws -> GrantRevocation? {
        try await self.revocations(
            sql: "SELECT \(GrantRows.revocationColumns) FROM grant_revocations WHERE grant_id = ?", arguments: [grantID]
        ).first
    }

    public func revocations(notExpiredAt now: Int64) async throws -> [GrantRevocation] {
        try await self.revocations(
            sql: "SELECT \(GrantRows.revocationColumns) FROM grant_revocations WHERE expires_at > ? ORDER BY revoked_at, grant_id",
            arguments: [now])
    }

    public func revocations(afterRevision revision: Int64) async throws -> [GrantRevocation] {
        try await self.revocations(
            sql: "SELECT \(GrantRows.revocationColumns) FROM grant_revocations WHERE revision > ? ORDER BY revision, grant_id",
            arguments: [revision])
    }

    public func revocationsRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.revocationsRevisionName)
    }

    public func deleteExpiredGrants(before: Int64) async throws -> Int {
        try await self.pool.write { db in
            var deleted = 0
            for table in ["grants", "grant_revocations"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE expires_at < ?", arguments: [before])
                deleted += db.changesCount
            }
            return deleted
        }
    }

    /// Reads grant rows, then decodes them outside the read (claims parsing needs no connection).
    private func grants(sql: String, arguments: StatementArguments) async throws -> [TaskGrant] {
        let rows = try await self.pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row -> (String, String, Int64, Int64) in
                (row[0], row[1], row[2], row[3])
            }
        }
        return try rows.map { row in try GrantRows.grant(id: row.0, claims: row.1, issuedAt: row.2, expiresAt: row.3) }
    }

    private func revocations(sql: String, arguments: StatementArguments) async throws -> [GrantRevocation] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                try GrantRows.revocation(grantID: row[0], reason: row[1], revokedAt: row[2], expiresAt: row[3])
            }
        }
    }
}
