import Foundation
import GRDB
public import LatchAudit
import LatchCore
public import LatchGateway
public import LatchStoreSupport

extension SQLiteIdentityStore: DecisionRecordRepository {
    /// One write transaction for the whole batch, with a cached prepared statement each row is
    /// bound to directly (``SQLiteRowInsert``): the recorder group-commits many tool calls into
    /// one call, so this is one `fsync` for the batch. The ledger head is read and moved inside it
    /// (SQLite has one writer, so indices never clash); leaf hashes come with the records, only
    /// the MACs (which need the index) are computed inside.
    public func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        try await self.pool.write { db in
            let start = try Self.ledgerHead(db)
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO decision_records
                        (id, time, task_id, grant_id, agent, tool, allowed, reason, trace_id, record, leaf_index, leaf_hash, leaf_mac)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var grants = Set<RecordedGrantPair>()
            for (offset, encoded) in records.enumerated() {
                let row = DecisionRecordRow(encoded)
                let index = start + Int64(offset)
                do {
                    try SQLiteRowInsert.run(insert, db) { insert in
                        try insert.text(1, row.id)
                        try insert.int64(2, row.time)
                        try insert.text(3, row.taskID)
                        try insert.text(4, row.grantID)
                        try insert.text(5, row.agent)
                        try insert.text(6, row.tool)
                        try insert.int64(7, row.allowed)
                        try insert.text(8, row.reason)
                        try insert.text(9, row.traceID)
                        try insert.text(10, row.record)
                        try insert.int64(11, index)
                        try insert.blob(12, encoded.leafHash)
                        try insert.blob(13, ledgerKey.mac(index: index, leafHash: encoded.leafHash))
                    }
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                    throw LatchError(.conflict, "a decision record with id \(row.id) already exists")
                }
                grants.insert(RecordedGrantPair(grantID: row.grantID, taskID: row.taskID))
            }
            // Which tasks each grant's records are in (grant queries go through the task index).
            let recordedGrants = try db.cachedStatement(
                sql: "INSERT INTO decision_record_grants (grant_id, task_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
            for pair in grants {
                try SQLiteRowInsert.run(recordedGrants, db) { insert in
                    try insert.text(1, pair.grantID)
                    try insert.text(2, pair.taskID)
                }
            }
            try db.execute(
                sql: "UPDATE store_revisions SET revision = ? WHERE name = ?",
                arguments: [start + Int64(records.count), StoreSchema.ledgerRevisionName])
        }
    }

    public func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
        let limit = max(0, limit)
        let sql: String
        let arguments: StatementArguments
        if let taskID {
            sql = "SELECT \(DecisionRecordRows.columns) FROM decision_records WHERE task_id = ? ORDER BY time DESC, id DESC LIMIT ?"
            arguments = [taskID, limit]
        } else {
            sql = "SELECT \(DecisionRecordRows.columns) FROM decision_records ORDER BY time DESC, id DESC LIMIT ?"
            arguments = [limit]
        }
        // Read the rows, then decode them outside the read (JSON parsing needs no connection).
        let rows = try await self.pool.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decisionRecordRow) }
        return try rows.map(DecisionRecordRows.record)
    }

    private static func decisionRecordRow(_ row: Row) -> DecisionRecordRow {
        DecisionRecordRow(
            id: row[0], time: row[1], taskID: row[2], grantID: row[3], agent: row[4], tool: row[5], allowed: row[6], reason: row[7],
            traceID: row[8], record: row[9])
    }
}

extension SQLiteIdentityStore: DecisionRecordQueryRepository {
    public func decisionRecords(matching query: DecisionRecordQuery) async throws -> [IndexedDecisionRecord] {
        let sql = DecisionRecordQuerySQL(query)
        let values: [DatabaseValue] = sql.values.map { value in
            switch value {
            case .text(let text): text.databaseValue
            case .int(let int): int.databaseValue
            }
        }
        let arguments = StatementArguments(values + [sql.limit.databaseValue])
        let rows = try await self.pool.read { db in
            try Row.fetchAll(db, sql: sql.statement, arguments: arguments).map { row in
                (Self.decisionRecordRow(row), row[10] as Int64?)
            }
        }
        return try rows.map { row, index in IndexedDecisionRecord(record: try DecisionRecordRows.record(row), ledgerIndex: index) }
    }
}

extension SQLiteIdentityStore: DecisionRecordIndexRepository {
    public func ledgerRecordRows(from index: Int64, limit: Int) async throws -> [LedgerRecordRow] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(DecisionRecordRows.columns), leaf_index FROM decision_records WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
                arguments: [index, max(0, limit)]
            ).map { row in LedgerRecordRow(index: row[10], row: Self.decisionRecordRow(row)) }
        }
    }

    public func recordedGrants() async throws -> [RecordedGrantPair] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT grant_id, task_id FROM decision_record_grants").map { row in
                RecordedGrantPair(grantID: row[0], taskID: row[1])
            }
        }
    }
}
