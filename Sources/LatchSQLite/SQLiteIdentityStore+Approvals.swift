import GRDB
import LatchCore
public import LatchGateway
import LatchStoreSupport

extension SQLiteIdentityStore: ApprovalRepository {
    /// One write transaction (SQLite's single writer): the count and the insert see the same rows.
    public func createApproval(_ approval: Approval, maxPending: Int, now: Int64) async throws -> Bool {
        try StoreValidation.validateNew(approval, maxPending: maxPending)
        return try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO approvals (\(ApprovalRows.columns))
                    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, NULL, NULL, NULL, ?, ?, ?
                    WHERE (SELECT COUNT(*) FROM approvals WHERE task_id = ? AND status = 'pending' AND expires_at > ?) < ?
                    """,
                arguments: [
                    approval.id, approval.taskID, approval.grantID, approval.agent, approval.tool, approval.digest, approval.reason,
                    ApprovalRows.policiesText(approval), approval.promptHMAC, approval.argumentsHMAC, approval.createdAt, approval.expiresAt,
                    approval.argumentsSealed, approval.promptSealed, ApprovalRows.riskText(approval), approval.taskID, now, maxPending,
                ])
            return db.changesCount > 0
        }
    }

    public func approval(id: String) async throws -> Approval? {
        try await self.pool.read { db in try Self.approval(db, id: id) }
    }

    public func approvals(taskID: String?, status: Approval.Status?, limit: Int) async throws -> [Approval] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let taskID {
            conditions.append("task_id = ?")
            arguments += [taskID]
        }
        if let status {
            conditions.append("status = ?")
            arguments += [status.rawValue]
        }
        arguments += [max(0, limit)]
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let bound = arguments
        return try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(ApprovalRows.columns) FROM approvals \(filter) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: bound
            ).map(Self.approval)
        }
    }

    public func decideApproval(id: String, approve: Bool, by: String, note: String?, now: Int64) async throws -> ApprovalDecisionOutcome {
        try StoreValidation.validateDecision(id: id, by: by, note: note)
        let status: Approval.Status = approve ? .approved : .denied
        return try await self.pool.write { db in
            try db.execute(
                sql:
                    "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND status = 'pending' AND expires_at > ?",
                arguments: [status.rawValue, by, now, note, id, now])
            let changed = db.changesCount > 0
            guard let approval = try Self.settled(db, id: id, now: now) else { return .notFound }
            return changed ? .decided(approval) : .refused(approval)
        }
    }

    public func consumeApproval(id: String, digest: String, now: Int64) async throws -> ApprovalConsumption {
        guard Approval.isName(id) else { return .notFound }
        return try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE approvals SET status = 'consumed' WHERE id = ? AND status = 'approved' AND digest = ? AND expires_at > ?",
                arguments: [id, digest, now])
            let changed = db.changesCount > 0
            guard let approval = try Self.settled(db, id: id, now: now) else { return .notFound }
            return changed ? .consumed(approval) : .refused(approval)
        }
    }

    /// The approval after marking it `expired` if it is pending or approved past its expiry.
    private static func settled(_ db: Database, id: String, now: Int64) throws -> Approval? {
        try db.execute(
            sql: "UPDATE approvals SET status = 'expired' WHERE id = ? AND status IN ('pending', 'approved') AND expires_at <= ?",
            arguments: [id, now])
        return try Self.approval(db, id: id)
    }

    private static func approval(_ db: Database, id: String) throws -> Approval? {
        try Row.fetchOne(db, sql: "SELECT \(ApprovalRows.columns) FROM approvals WHERE id = ?", arguments: [id]).map(Self.approval)
    }

    private static func approval(_ row: Row) throws -> Approval {
        let id: String = row[0]
        return Approval(
            id: id, taskID: row[1], grantID: row[2], agent: row[3], tool: row[4], digest: row[5], reason: row[6],
            policies: try ApprovalRows.policies(row[7], id: id), promptHMAC: row[8], argumentsHMAC: row[9],
            argumentsSealed: row[16], promptSealed: row[17], risk: try ApprovalRows.risk(row[18], id: id),
            status: try ApprovalRows.status(row[10], id: id), createdAt: row[11], expiresAt: row[12], decidedBy: row[13], decidedAt: row[14],
            note: row[15])
    }
}
