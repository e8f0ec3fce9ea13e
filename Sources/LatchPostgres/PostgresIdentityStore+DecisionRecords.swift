import LatchCore
public import LatchGateway
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: DecisionRecordRepository {
    /// One statement whatever the batch size, a multi-row `INSERT … SELECT FROM unnest(arrays)`,
    /// sent outside an explicit transaction: a single statement is atomic, so the batch costs one
    /// round-trip, and an ID already stored (unique violation) fails it whole.
    public func saveDecisionRecords(_ records: [DecisionRecord]) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        let rows = records.map(DecisionRecordRow.init)
        // Arrays cannot carry NULL here: a flag per nullable column says whether its value is set
        // (an empty tool name is a value, not NULL).
        let tools = rows.map { $0.tool ?? "" }
        let hasTool = rows.map { $0.tool != nil }
        let reasons = rows.map { $0.reason ?? "" }
        let hasReason = rows.map { $0.reason != nil }
        do {
            try await self.client.query(
                """
                INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record)
                SELECT id, time, task_id, grant_id, agent, CASE WHEN has_tool THEN tool END, allowed,
                       CASE WHEN has_reason THEN reason END, record
                FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.time))::bigint[], \(rows.map(\.taskID))::text[],
                            \(rows.map(\.grantID))::text[], \(rows.map(\.agent))::text[], \(tools)::text[], \(hasTool)::boolean[],
                            \(rows.map(\.allowed))::bigint[], \(reasons)::text[], \(hasReason)::boolean[], \(rows.map(\.record))::text[])
                    AS r(id, time, task_id, grant_id, agent, tool, has_tool, allowed, reason, has_reason, record)
                """, logger: self.logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            // "Key (id)=(…) already exists." names the record (an identifier, not a secret).
            throw LatchError(.conflict, "a decision record already exists: \(error.serverInfo?[.detail] ?? "unique violation")")
        }
    }

    public func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
        let limit = Int64(max(0, limit))
        let query: PostgresQuery
        if let taskID {
            query = """
                SELECT \(unescaped: DecisionRecordRows.columns) FROM decision_records WHERE task_id = \(taskID)
                ORDER BY time DESC, id DESC LIMIT \(limit)
                """
        } else {
            query = "SELECT \(unescaped: DecisionRecordRows.columns) FROM decision_records ORDER BY time DESC, id DESC LIMIT \(limit)"
        }
        var records: [DecisionRecord] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (id, time, taskID, grantID, agent, tool, allowed, reason, record) in rows.decode(
            (String, Int64, String, String, String, String?, Int64, String?, String).self)
        {
            records.append(
                try DecisionRecordRows.record(
                    DecisionRecordRow(
                        id: id, time: time, taskID: taskID, grantID: grantID, agent: agent, tool: tool, allowed: allowed, reason: reason,
                        record: record)))
        }
        return records
    }
}
