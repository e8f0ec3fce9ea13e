import LatchCore
public import LatchGateway
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: ApprovalRepository {
    /// One transaction holding a transaction-level advisory lock per task
    /// (`latch-approvals:<task>`): of nodes holding calls of one task at once, each counts the
    /// pending approvals after the others committed, so the cap holds across nodes.
    public func createApproval(_ approval: Approval, maxPending: Int, now: Int64) async throws -> Bool {
        try StoreValidation.validateNew(approval, maxPending: maxPending)
        let lock = "latch-approvals:" + approval.taskID
        return try await self.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(lock), 0))", logger: self.logger)
            let inserted = try await connection.query(
                """
                INSERT INTO approvals (\(unescaped: ApprovalRows.columns))
                SELECT \(approval.id), \(approval.taskID), \(approval.grantID), \(approval.agent), \(approval.tool), \(approval.digest),
                       \(approval.reason), \(ApprovalRows.policiesText(approval)), \(approval.promptHMAC)::text, \(approval.argumentsHMAC)::text,
                       'pending', \(approval.createdAt), \(approval.expiresAt), NULL, NULL, NULL,
                       \(approval.argumentsSealed)::text, \(approval.promptSealed)::text, \(ApprovalRows.riskText(approval))::text
                WHERE (SELECT COUNT(*) FROM approvals WHERE task_id = \(approval.taskID) AND status = 'pending' AND expires_at > \(now)) < \(Int64(maxPending))
                RETURNING 1
                """, logger: self.logger
            ).collect()
            return !inserted.isEmpty
        }
    }

    public func approval(id: String) async throws -> Approval? {
        guard Approval.isName(id) else { return nil }
        return try await self.approvals(
            self.client.query("SELECT \(unescaped: ApprovalRows.columns) FROM approvals WHERE id = \(id)", logger: self.logger)
        ).first
    }

    public func approvals(taskID: String?, status: Approval.Status?, limit: Int) async throws -> [Approval] {
        let limit = Int64(max(0, limit))
        let query: PostgresQuery
        switch (taskID, status?.rawValue) {
        case (let taskID?, let status?):
            query = """
                SELECT \(unescaped: ApprovalRows.columns) FROM approvals WHERE task_id = \(taskID) AND status = \(status)
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """
        case (let taskID?, nil):
            query =
                "SELECT \(unescaped: ApprovalRows.columns) FROM approvals WHERE task_id = \(taskID) ORDER BY created_at DESC, id DESC LIMIT \(limit)"
        case (nil, let status?):
            query =
                "SELECT \(unescaped: ApprovalRows.columns) FROM approvals WHERE status = \(status) ORDER BY created_at DESC, id DESC LIMIT \(limit)"
        case (nil, nil):
            query = "SELECT \(unescaped: ApprovalRows.columns) FROM approvals ORDER BY created_at DESC, id DESC LIMIT \(limit)"
        }
        return try await self.approvals(self.client.query(query, logger: self.logger))
    }

    /// One conditional UPDATE: of two decisions at once, the second waits for the first's row
    /// lock, then finds the row no longer pending.
    public func decideApproval(id: String, approve: Bool, by: String, note: String?, now: Int64) async throws -> ApprovalDecisionOutcome {
        try StoreValidation.validateDecision(id: id, by: by, note: note)
        let status = approve ? Approval.Status.approved.rawValue : Approval.Status.denied.rawValue
        let decided = try await self.approvals(
            self.client.query(
                """
                UPDATE approvals SET status = \(status), decided_by = \(by), decided_at = \(now), note = \(note)::text
                WHERE id = \(id) AND status = 'pending' AND expires_at > \(now)
                RETURNING \(unescaped: ApprovalRows.columns)
                """, logger: self.logger))
        if let approval = decided.first { return .decided(approval) }
        guard let approval = try await self.settled(id: id, now: now) else { return .notFound }
        return .refused(approval)
    }

    /// One conditional UPDATE: of two retries (on any nodes) consuming one approval, exactly one
    /// changes the row; the other re-reads it after the first commits and finds it consumed.
    public func consumeApproval(id: String, digest: String, now: Int64) async throws -> ApprovalConsumption {
        guard Approval.isName(id) else { return .notFound }
        let consumed = try await self.approvals(
            self.client.query(
                """
                UPDATE approvals SET status = 'consumed'
                WHERE id = \(id) AND status = 'approved' AND digest = \(digest) AND expires_at > \(now)
                RETURNING \(unescaped: ApprovalRows.columns)
                """, logger: self.logger))
        if let approval = consumed.first { return .consumed(approval) }
        guard let approval = try await self.settled(id: id, now: now) else { return .notFound }
        return .refused(approval)
    }

    /// The approval after marking it `expired` if it is pending or approved past its expiry.
    private func settled(id: String, now: Int64) async throws -> Approval? {
        try await self.client.query(
            "UPDATE approvals SET status = 'expired' WHERE id = \(id) AND status IN ('pending', 'approved') AND expires_at <= \(now)",
            logger: self.logger)
        return try await self.approval(id: id)
    }

    private func approvals(_ rows: PostgresRowSequence) async throws -> [Approval] {
        var approvals: [Approval] = []
        for try await row in rows {
            let c = try row.decode(
                (
                    String, String, String, String, String, String, String, String, String?, String?, String, Int64, Int64, String?, Int64?, String?,
                    String?, String?, String?
                ).self)
            approvals.append(
                Approval(
                    id: c.0, taskID: c.1, grantID: c.2, agent: c.3, tool: c.4, digest: c.5, reason: c.6,
                    policies: try ApprovalRows.policies(c.7, id: c.0), promptHMAC: c.8, argumentsHMAC: c.9,
                    argumentsSealed: c.16, promptSealed: c.17, risk: try ApprovalRows.risk(c.18, id: c.0),
                    status: try ApprovalRows.status(c.10, id: c.0), createdAt: c.11, expiresAt: c.12, decidedBy: c.13, decidedAt: c.14,
                    note: c.15))
        }
        return approvals
    }
}
