import LatchCore
public import LatchGrants
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: GrantRepository {
    /// One statement whatever the batch size, a multi-row `INSERT … SELECT FROM unnest(arrays)`,
    /// sent outside an explicit transaction: a single statement is atomic, so the batch costs one
    /// round-trip, and an existing ID or a second root for a task (unique violation) fails it whole.
    /// Prepared once per connection (``InsertGrants``). One row per grant: a task is its root
    /// grant (the `grant_tasks` view).
    public func saveGrants(_ records: [GrantRecord]) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        do {
            _ = try await self.client.execute(InsertGrants(records), logger: self.logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            // "Key (id)=(…) already exists." names the grant or task (identifiers, not secrets).
            throw LatchError(.conflict, "a grant or task root already exists: \(error.serverInfo?[.detail] ?? "unique violation")")
        }
    }

    public func grant(id: String) async throws -> TaskGrant? {
        try await self.grants("SELECT \(unescaped: GrantRows.columns) FROM grants WHERE id = \(id)").first
    }

    public func grants(taskID: String) async throws -> [TaskGrant] {
        try await self.grants(
            "SELECT \(unescaped: GrantRows.columns) FROM grants WHERE task_id = \(taskID) ORDER BY issued_at, depth, id")
    }

    public func listGrants(activeAt: Int64?, limit: Int) async throws -> [TaskGrant] {
        let limit = Int64(max(0, limit))
        if let activeAt {
            return try await self.grants(
                """
                SELECT \(unescaped: GrantRows.columns) FROM grants WHERE expires_at > \(activeAt)
                ORDER BY issued_at DESC, id DESC LIMIT \(limit)
                """)
        }
        return try await self.grants("SELECT \(unescaped: GrantRows.columns) FROM grants ORDER BY issued_at DESC, id DESC LIMIT \(limit)")
    }

    public func task(id: String) async throws -> GrantTask? {
        let rows = try await self.client.query(
            "SELECT \(unescaped: GrantRows.taskColumns) FROM grant_tasks WHERE task_id = \(id)", logger: self.logger)
        for try await (taskID, claims, rootGrantID, createdAt, expiresAt, endedAt, endReason) in rows.decode(
            (String, String, String, Int64, Int64, Int64?, String?).self)
        {
            return try GrantRows.task(
                taskID: taskID, claims: claims, rootGrantID: rootGrantID, createdAt: createdAt, expiresAt: expiresAt, endedAt: endedAt,
                endReason: endReason)
        }
        return nil
    }

    /// One transaction, one revocation at a time: each is inserted unless its grant is revoked
    /// already (the first stays; a concurrent revoker on another node waits on the row and then
    /// finds it). A root grant's revocation ends its task (the `grant_tasks` view joins them).
    ///
    /// Rows are written in grant ID order (stable, so of two revocations of one grant the earlier
    /// in the batch wins), so that two concurrent batches lock them in the same order and cannot
    /// deadlock; the new ones are returned in the caller's order.
    public func revoke(_ revocations: [GrantRevocation]) async throws -> [GrantRevocation] {
        guard !revocations.isEmpty else { return [] }
        for revocation in revocations { try StoreValidation.validate(revocation) }
        let lockOrder = revocations.indices.sorted { (revocations[$0].grantID, $0) < (revocations[$1].grantID, $1) }
        return try await self.transaction { connection in
            // The counter first: its row lock orders concurrent revokers, so the revision a call
            // sets is assigned in commit order and its rows carry it (a node that has seen revision
            // N has seen every row of revision N or less). Taken back if nothing was new.
            let revision = try await self.bumpRevision(StoreSchema.revocationsRevisionName, connection)
            var recordedIndices: [Int] = []
            for index in lockOrder {
                let revocation = revocations[index]
                let inserted = try await connection.query(
                    """
                    INSERT INTO grant_revocations (grant_id, reason, revoked_at, expires_at, revision)
                    VALUES (\(revocation.grantID), \(revocation.reason.rawValue), \(revocation.revokedAt), \(revocation.expiresAt), \(revision))
                    ON CONFLICT (grant_id) DO NOTHING
                    RETURNING grant_id
                    """, logger: self.logger
                ).collect()
                guard !inserted.isEmpty else { continue }
                recordedIndices.append(index)
            }
            guard !recordedIndices.isEmpty else {
                try await connection.query(
                    "UPDATE store_revisions SET revision = revision - 1 WHERE name = \(StoreSchema.revocationsRevisionName)",
                    logger: self.logger)
                return []
            }
            return recordedIndices.sorted().map { revocations[$0] }
        }
    }

    public func revocation(grantID: String) async throws -> GrantRevocation? {
        try await self.revocations(
            "SELECT \(unescaped: GrantRows.revocationColumns) FROM grant_revocations WHERE grant_id = \(grantID)"
        ).first
    }

    public func revocations(notExpiredAt now: Int64) async throws -> [GrantRevocation] {
        try await self.revocations(
            """
            SELECT \(unescaped: GrantRows.revocationColumns) FROM grant_revocations WHERE expires_at > \(now)
            ORDER BY revoked_at, grant_id
            """)
    }

    public func revocations(afterRevision revision: Int64) async throws -> [GrantRevocation] {
        try await self.revocations(
            """
            SELECT \(unescaped: GrantRows.revocationColumns) FROM grant_revocations WHERE revision > \(revision)
            ORDER BY revision, grant_id
            """)
    }

    public func revocationsRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.revocationsRevisionName)
    }

    /// One statement deleting from both tables (atomic without an explicit transaction).
    public func deleteExpiredGrants(before: Int64) async throws -> Int {
        try await self.count(
            """
            WITH g AS (DELETE FROM grants WHERE expires_at < \(before) RETURNING 1),
                 r AS (DELETE FROM grant_revocations WHERE expires_at < \(before) RETURNING 1)
            SELECT (SELECT count(*) FROM g) + (SELECT count(*) FROM r)
            """)
    }

    func grants(_ query: PostgresQuery) async throws -> [TaskGrant] {
        var grants: [TaskGrant] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (id, claims, issuedAt, expiresAt) in rows.decode((String, String, Int64, Int64).self) {
            grants.append(try GrantRows.grant(id: id, claims: claims, issuedAt: issuedAt, expiresAt: expiresAt))
        }
        return grants
    }

    func revocations(_ query: PostgresQuery) async throws -> [GrantRevocation] {
        var revocations: [GrantRevocation] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (grantID, reason, revokedAt, expiresAt) in rows.decode((String, String, Int64, Int64).self) {
            revocations.append(try GrantRows.revocation(grantID: grantID, reason: reason, revokedAt: revokedAt, expiresAt: expiresAt))
        }
        return revocations
    }
}

/// The grant batch insert, a prepared statement: each connection parses and plans it once rather
/// than once per batch (planning it cost about as much as inserting a hundred rows). The rows go
/// as one array per column.
private struct InsertGrants: PostgresPreparedStatement {
    static let sql = """
        INSERT INTO grants (id, task_id, parent_id, depth, claims, issued_at, expires_at)
        SELECT id, task_id, NULLIF(parent_id, ''), depth, claims, issued_at, expires_at
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::bigint[])
            AS g(id, task_id, parent_id, depth, claims, issued_at, expires_at)
        """
    typealias Row = Void

    var ids: [String] = []
    var taskIDs: [String] = []
    /// '' stands for NULL (a root grant has no parent; grant IDs are never empty).
    var parentIDs: [String] = []
    var depths: [Int64] = []
    var claims: [String] = []
    var issuedAt: [Int64] = []
    var expiresAt: [Int64] = []

    init(_ records: [GrantRecord]) {
        self.ids.reserveCapacity(records.count)
        self.taskIDs.reserveCapacity(records.count)
        self.parentIDs.reserveCapacity(records.count)
        self.depths.reserveCapacity(records.count)
        self.claims.reserveCapacity(records.count)
        self.issuedAt.reserveCapacity(records.count)
        self.expiresAt.reserveCapacity(records.count)
        for record in records {
            let grant = record.grant
            self.ids.append(grant.id)
            self.taskIDs.append(grant.taskID)
            self.parentIDs.append(grant.parentID ?? "")
            self.depths.append(Int64(grant.depth))
            self.claims.append(String(decoding: record.claims, as: UTF8.self))
            self.issuedAt.append(grant.issuedAt)
            self.expiresAt.append(grant.expiresAt)
        }
    }

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 7)
        bindings.append(self.ids)
        bindings.append(self.taskIDs)
        bindings.append(self.parentIDs)
        bindings.append(self.depths)
        bindings.append(self.claims)
        bindings.append(self.issuedAt)
        bindings.append(self.expiresAt)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws {}
}
