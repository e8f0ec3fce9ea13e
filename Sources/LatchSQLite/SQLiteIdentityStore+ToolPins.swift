import GRDB
import LatchCore
public import LatchGateway
import LatchStoreSupport

extension SQLiteIdentityStore: ToolPinRepository {
    public func toolPins(upstream: String?) async throws -> [ToolPin] {
        try await self.pool.read { db in
            let rows: [Row]
            if let upstream {
                rows = try Row.fetchAll(
                    db, sql: "SELECT \(ToolPinRows.columns) FROM tool_pins WHERE upstream = ? ORDER BY upstream, tool, status", arguments: [upstream])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT \(ToolPinRows.columns) FROM tool_pins ORDER BY upstream, tool, status")
            }
            return try rows.map(Self.pin)
        }
    }

    /// One write transaction (SQLite's single writer): the insert only if the tool has no row.
    public func pinFirstDefinition(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        return try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tool_pins (\(ToolPinRows.columns))
                    SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM tool_pins WHERE upstream = ? AND tool = ?)
                    """,
                arguments: Self.arguments(pin) + [pin.upstream, pin.tool])
            return db.changesCount > 0
        }
    }

    public func savePendingToolPin(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        guard pin.status == .pending else { throw LatchError(.invalidInput, "tool pin \(pin.name): savePendingToolPin takes a pending pin") }
        return try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tool_pins (\(ToolPinRows.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (upstream, tool, status) DO UPDATE
                    SET digest = excluded.digest, definition = excluded.definition, first_seen = excluded.first_seen
                    WHERE tool_pins.digest <> excluded.digest
                    """,
                arguments: Self.arguments(pin))
            return db.changesCount > 0
        }
    }

    public func deletePendingToolPin(upstream: String, tool: String, digest: String) async throws -> Bool {
        try StoreValidation.validatePinKey(upstream: upstream, tool: tool, digest: digest)
        return try await self.pool.write { db in
            try db.execute(
                sql: "DELETE FROM tool_pins WHERE upstream = ? AND tool = ? AND status = 'pending' AND digest = ?",
                arguments: [upstream, tool, digest])
            return db.changesCount > 0
        }
    }

    public func acceptToolPin(
        upstream: String, tool: String, digest: String, acceptedAt: Int64, acceptedBy: String?
    ) async throws
        -> ToolPinAcceptance
    {
        try StoreValidation.validateAcceptance(upstream: upstream, tool: tool, digest: digest, acceptedBy: acceptedBy)
        return try await self.pool.write { db in
            let key: StatementArguments = [upstream, tool]
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT \(ToolPinRows.columns) FROM tool_pins WHERE upstream = ? AND tool = ? AND status = 'pending'", arguments: key)
            else { return .nothingPending }
            var pin = try Self.pin(row)
            guard pin.digest == digest else { return .digestMismatch(pending: pin.digest) }
            try db.execute(sql: "DELETE FROM tool_pins WHERE upstream = ? AND tool = ? AND status = 'accepted'", arguments: key)
            try db.execute(
                sql:
                    "UPDATE tool_pins SET status = 'accepted', accepted_at = ?, accepted_by = ? WHERE upstream = ? AND tool = ? AND status = 'pending'",
                arguments: [acceptedAt, acceptedBy] + key)
            pin.status = .accepted
            pin.acceptedAt = acceptedAt
            pin.acceptedBy = acceptedBy
            return .accepted(pin)
        }
    }

    private static func arguments(_ pin: ToolPin) -> StatementArguments {
        [pin.upstream, pin.tool, pin.status.rawValue, pin.digest, ToolPinRows.definitionText(pin), pin.firstSeen, pin.acceptedAt, pin.acceptedBy]
    }

    private static func pin(_ row: Row) throws -> ToolPin {
        try ToolPinRows.pin(
            upstream: row[0], tool: row[1], status: row[2], digest: row[3], definition: row[4], firstSeen: row[5], acceptedAt: row[6],
            acceptedBy: row[7])
    }
}
