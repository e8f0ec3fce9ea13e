import GRDB
public import LatchCore
public import LatchGrants
import LatchStoreSupport

extension SQLiteIdentityStore: QuarantineRepository {
    public func quarantineAgent(_ quarantine: AgentQuarantine) async throws -> Bool {
        try StoreValidation.validate(quarantine)
        return try await self.pool.write { db in
            // A released row is replaced; one in force is kept (the first quarantine stands).
            try db.execute(
                sql: """
                    INSERT INTO quarantines (\(QuarantineRows.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?)
                    ON CONFLICT (agent) DO UPDATE SET
                        reason = excluded.reason, quarantined_by = excluded.quarantined_by, quarantined_at = excluded.quarantined_at,
                        task_id = excluded.task_id, grant_id = excluded.grant_id, decision_id = excluded.decision_id, rules = excluded.rules,
                        released_at = NULL, released_by = NULL, note = excluded.note
                    WHERE quarantines.released_at IS NOT NULL
                    """,
                arguments: [
                    quarantine.agent.description, quarantine.reason, quarantine.by, quarantine.since, quarantine.taskID, quarantine.grantID,
                    quarantine.decisionID, QuarantineRows.rulesText(quarantine), quarantine.note,
                ])
            return db.changesCount > 0
        }
    }

    public func releaseAgent(_ agent: SPIFFEID, by: String, note: String?, now: Int64) async throws -> AgentQuarantine? {
        try StoreValidation.validateRelease(by: by, note: note)
        return try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE quarantines SET released_at = ?, released_by = ?, note = COALESCE(?, note) WHERE agent = ? AND released_at IS NULL",
                arguments: [now, by, note, agent.description])
            guard db.changesCount > 0 else { return nil }
            return try Self.quarantine(db, agent: agent)
        }
    }

    public func quarantine(agent: SPIFFEID) async throws -> AgentQuarantine? {
        try await self.pool.read { db in try Self.quarantine(db, agent: agent) }
    }

    public func quarantines(inForceOnly: Bool) async throws -> [AgentQuarantine] {
        let filter = inForceOnly ? "WHERE released_at IS NULL" : ""
        return try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(QuarantineRows.columns) FROM quarantines \(filter) ORDER BY quarantined_at DESC, agent")
                .map(Self.quarantine)
        }
    }

    private static func quarantine(_ db: Database, agent: SPIFFEID) throws -> AgentQuarantine? {
        try Row.fetchOne(db, sql: "SELECT \(QuarantineRows.columns) FROM quarantines WHERE agent = ?", arguments: [agent.description])
            .map(Self.quarantine)
    }

    private static func quarantine(_ row: Row) throws -> AgentQuarantine {
        try QuarantineRows.quarantine(
            agent: row[0], reason: row[1], by: row[2], since: row[3], taskID: row[4], grantID: row[5], decisionID: row[6], rules: row[7],
            releasedAt: row[8], releasedBy: row[9], note: row[10])
    }
}
