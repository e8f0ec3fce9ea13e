public import LatchCore
public import LatchGrants
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: QuarantineRepository {
    /// One statement: of nodes quarantining one agent at once, the first row in force stands.
    public func quarantineAgent(_ quarantine: AgentQuarantine) async throws -> Bool {
        try StoreValidation.validate(quarantine)
        let rows = try await self.client.query(
            """
            INSERT INTO quarantines (\(unescaped: QuarantineRows.columns))
            VALUES (\(quarantine.agent.description), \(quarantine.reason), \(quarantine.by), \(quarantine.since), \(quarantine.taskID)::text,
                    \(quarantine.grantID)::text, \(quarantine.decisionID)::text, \(QuarantineRows.rulesText(quarantine)), NULL, NULL,
                    \(quarantine.note)::text)
            ON CONFLICT (agent) DO UPDATE SET
                reason = excluded.reason, quarantined_by = excluded.quarantined_by, quarantined_at = excluded.quarantined_at,
                task_id = excluded.task_id, grant_id = excluded.grant_id, decision_id = excluded.decision_id, rules = excluded.rules,
                released_at = NULL, released_by = NULL, note = excluded.note
            WHERE quarantines.released_at IS NOT NULL
            RETURNING 1
            """, logger: self.logger
        ).collect()
        return !rows.isEmpty
    }

    public func releaseAgent(_ agent: SPIFFEID, by: String, note: String?, now: Int64) async throws -> AgentQuarantine? {
        try StoreValidation.validateRelease(by: by, note: note)
        return try await self.quarantines(
            self.client.query(
                """
                UPDATE quarantines SET released_at = \(now), released_by = \(by), note = COALESCE(\(note)::text, note)
                WHERE agent = \(agent.description) AND released_at IS NULL
                RETURNING \(unescaped: QuarantineRows.columns)
                """, logger: self.logger)
        ).first
    }

    public func quarantine(agent: SPIFFEID) async throws -> AgentQuarantine? {
        try await self.quarantines(
            self.client.query("SELECT \(unescaped: QuarantineRows.columns) FROM quarantines WHERE agent = \(agent.description)", logger: self.logger)
        ).first
    }

    public func quarantines(inForceOnly: Bool) async throws -> [AgentQuarantine] {
        let query: PostgresQuery =
            inForceOnly
            ? "SELECT \(unescaped: QuarantineRows.columns) FROM quarantines WHERE released_at IS NULL ORDER BY quarantined_at DESC, agent"
            : "SELECT \(unescaped: QuarantineRows.columns) FROM quarantines ORDER BY quarantined_at DESC, agent"
        return try await self.quarantines(self.client.query(query, logger: self.logger))
    }

    private func quarantines(_ rows: PostgresRowSequence) async throws -> [AgentQuarantine] {
        var quarantines: [AgentQuarantine] = []
        for try await row in rows {
            let c = try row.decode((String, String, String, Int64, String?, String?, String?, String, Int64?, String?, String?).self)
            quarantines.append(
                try QuarantineRows.quarantine(
                    agent: c.0, reason: c.1, by: c.2, since: c.3, taskID: c.4, grantID: c.5, decisionID: c.6, rules: c.7, releasedAt: c.8,
                    releasedBy: c.9, note: c.10))
        }
        return quarantines
    }
}
