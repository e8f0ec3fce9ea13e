import LatchCore
public import LatchGateway
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: ToolPinRepository {
    public func toolPins(upstream: String?) async throws -> [ToolPin] {
        let query: PostgresQuery
        if let upstream {
            query = "SELECT \(unescaped: ToolPinRows.columns) FROM tool_pins WHERE upstream = \(upstream) ORDER BY upstream, tool, status"
        } else {
            query = "SELECT \(unescaped: ToolPinRows.columns) FROM tool_pins ORDER BY upstream, tool, status"
        }
        return try await self.pins(self.client.query(query, logger: self.logger))
    }

    /// One transaction that first takes a lock on the table that writers of pins conflict on
    /// (`SHARE ROW EXCLUSIVE`; readers are not blocked): of nodes pinning the same tool at once,
    /// with the same status or not, exactly one finds it unpinned. First pins are rare (a tool's
    /// first listing), so serializing them costs nothing that matters.
    public func pinFirstDefinition(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        return try await self.transaction { connection in
            try await connection.query("LOCK TABLE tool_pins IN SHARE ROW EXCLUSIVE MODE", logger: self.logger)
            let inserted = try await connection.query(
                """
                INSERT INTO tool_pins (\(unescaped: ToolPinRows.columns))
                SELECT \(pin.upstream), \(pin.tool), \(pin.status.rawValue), \(pin.digest), \(ToolPinRows.definitionText(pin)), \(pin.firstSeen),
                       \(pin.acceptedAt)::bigint, \(pin.acceptedBy)::text
                WHERE NOT EXISTS (SELECT 1 FROM tool_pins WHERE upstream = \(pin.upstream) AND tool = \(pin.tool))
                RETURNING 1
                """, logger: self.logger
            ).collect()
            return !inserted.isEmpty
        }
    }

    public func savePendingToolPin(_ pin: ToolPin) async throws -> Bool {
        try StoreValidation.validate(pin)
        guard pin.status == .pending else { throw LatchError(.invalidInput, "tool pin \(pin.name): savePendingToolPin takes a pending pin") }
        let changed = try await self.client.query(
            """
            INSERT INTO tool_pins (\(unescaped: ToolPinRows.columns))
            VALUES (\(pin.upstream), \(pin.tool), 'pending', \(pin.digest), \(ToolPinRows.definitionText(pin)), \(pin.firstSeen), NULL, NULL)
            ON CONFLICT (upstream, tool, status) DO UPDATE
            SET digest = excluded.digest, definition = excluded.definition, first_seen = excluded.first_seen
            WHERE tool_pins.digest <> excluded.digest
            RETURNING 1
            """, logger: self.logger
        ).collect()
        return !changed.isEmpty
    }

    public func deletePendingToolPin(upstream: String, tool: String, digest: String) async throws -> Bool {
        try StoreValidation.validatePinKey(upstream: upstream, tool: tool, digest: digest)
        let deleted = try await self.client.query(
            """
            DELETE FROM tool_pins WHERE upstream = \(upstream) AND tool = \(tool) AND status = 'pending' AND digest = \(digest)
            RETURNING 1
            """, logger: self.logger
        ).collect()
        return !deleted.isEmpty
    }

    /// One transaction that locks the pending row first (`FOR UPDATE`): of two accepts, or an
    /// accept and a refresh replacing the pending definition, one waits for the other, so what
    /// is accepted is exactly the definition whose digest was named.
    public func acceptToolPin(
        upstream: String, tool: String, digest: String, acceptedAt: Int64, acceptedBy: String?
    ) async throws
        -> ToolPinAcceptance
    {
        try StoreValidation.validateAcceptance(upstream: upstream, tool: tool, digest: digest, acceptedBy: acceptedBy)
        return try await self.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: ToolPinRows.columns) FROM tool_pins WHERE upstream = \(upstream) AND tool = \(tool) AND status = 'pending'
                FOR UPDATE
                """, logger: self.logger)
            guard var pin = try await self.pins(rows).first else { return .nothingPending }
            guard pin.digest == digest else { return .digestMismatch(pending: pin.digest) }
            try await connection.query(
                "DELETE FROM tool_pins WHERE upstream = \(upstream) AND tool = \(tool) AND status = 'accepted'", logger: self.logger)
            try await connection.query(
                """
                UPDATE tool_pins SET status = 'accepted', accepted_at = \(acceptedAt), accepted_by = \(acceptedBy)::text
                WHERE upstream = \(upstream) AND tool = \(tool) AND status = 'pending'
                """, logger: self.logger)
            pin.status = .accepted
            pin.acceptedAt = acceptedAt
            pin.acceptedBy = acceptedBy
            return .accepted(pin)
        }
    }

    private func pins(_ rows: PostgresRowSequence) async throws -> [ToolPin] {
        var pins: [ToolPin] = []
        for try await (upstream, tool, status, digest, definition, firstSeen, acceptedAt, acceptedBy) in rows.decode(
            (String, String, String, String, String, Int64, Int64?, String?).self)
        {
            pins.append(
                try ToolPinRows.pin(
                    upstream: upstream, tool: tool, status: status, digest: digest, definition: definition, firstSeen: firstSeen,
                    acceptedAt: acceptedAt, acceptedBy: acceptedBy))
        }
        return pins
    }
}
