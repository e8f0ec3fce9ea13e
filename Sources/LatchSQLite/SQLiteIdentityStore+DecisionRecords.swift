import GRDB
import LatchCore
public import LatchGateway
import LatchStoreSupport

extension SQLiteIdentityStore: DecisionRecordRepository {
    /// One write transaction for the whole batch, with a cached prepared statement: the recorder
    /// group-commits many tool calls into one call, so this is one `fsync` for the batch.
    public func saveDecisionRecords(_ records: [DecisionRecord]) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        let rows = records.map(DecisionRecordRow.init)
        try await self.pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for row in rows {
                do {
                    try insert.execute(arguments: [
                        row.id, row.time, row.taskID, row.grantID, row.agent, row.tool, row.allowed, row.reason, row.record,
                    ])
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                    throw LatchError(.conflict, "a decision record with id \(row.id) already exists")
                }
            }
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
        let rows = try await self.pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                DecisionRecordRow(
                    id: row[0], time: row[1], taskID: row[2], grantID: row[3], agent: row[4], tool: row[5], allowed: row[6], reason: row[7],
                    record: row[8])
            }
        }
        return try rows.map(DecisionRecordRows.record)
    }
}
