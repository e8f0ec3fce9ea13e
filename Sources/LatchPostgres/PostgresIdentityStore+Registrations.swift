import LatchCore
public import LatchIdentity
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore {
    public func createEntry(_ entry: RegistrationEntry) async throws {
        try StoreValidation.validate(entry)
        let attributes = AttributesJSON.encode(entry.attributes)
        let types = entry.selectors.map(\.type)
        let values = entry.selectors.map(\.value)
        try await self.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO registration_entries (id, spiffe_id, x509_svid_ttl, jwt_svid_ttl, attributes, created_at)
                VALUES (\(entry.id), \(entry.spiffeID.description), \(entry.x509SVIDTTL), \(entry.jwtSVIDTTL), \(attributes), \(entry.createdAt))
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """, logger: self.logger
            ).collect()
            guard !inserted.isEmpty else {
                throw LatchError(.conflict, "a registration entry with id \(entry.id) already exists")
            }
            try await connection.query(
                """
                INSERT INTO registration_selectors (entry_id, type, value)
                SELECT \(entry.id), t, v FROM unnest(\(types)::text[], \(values)::text[]) AS s(t, v)
                """, logger: self.logger)
            try await self.bumpRevision(StoreSchema.entriesRevisionName, connection)
        }
    }

    public func entry(id: String) async throws -> RegistrationEntry? {
        let rows = try await self.entryRows(
            """
            SELECT \(unescaped: EntryRows.columns) FROM registration_entries e
            JOIN registration_selectors s ON s.entry_id = e.id
            WHERE e.id = \(id) ORDER BY s.type, s.value
            """)
        return try EntryRows.assemble(rows).first
    }

    public func listEntries() async throws -> [RegistrationEntry] {
        let rows = try await self.entryRows(
            """
            SELECT \(unescaped: EntryRows.columns) FROM registration_entries e
            JOIN registration_selectors s ON s.entry_id = e.id
            ORDER BY e.created_at, e.id, s.type, s.value
            """)
        return try EntryRows.assemble(rows)
    }

    public func deleteEntry(id: String) async throws -> Bool {
        try await self.transaction { connection in
            let deleted = try await connection.query(
                "DELETE FROM registration_entries WHERE id = \(id) RETURNING id", logger: self.logger
            ).collect()
            guard !deleted.isEmpty else { return false }
            try await self.bumpRevision(StoreSchema.entriesRevisionName, connection)
            return true
        }
    }

    public func entries(matching selectors: Set<Selector>) async throws -> [RegistrationEntry] {
        guard !selectors.isEmpty else { return [] }
        let presented = Array(selectors)
        let rows = try await self.entryRows(
            """
            WITH presented(type, value) AS (
                SELECT * FROM unnest(\(presented.map(\.type))::text[], \(presented.map(\.value))::text[])
            )
            \(unescaped: EntryRows.matchingBody)
            """)
        return try EntryRows.assemble(rows)
    }

    public func entriesRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.entriesRevisionName)
    }

    func entryRows(_ query: PostgresQuery) async throws -> [EntrySelectorRow] {
        var result: [EntrySelectorRow] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (id, spiffeID, x509TTL, jwtTTL, attributes, createdAt, type, value) in rows.decode(
            (String, String, Int64, Int64, String, Int64, String, String).self)
        {
            result.append(
                EntrySelectorRow(
                    id: id, spiffeID: spiffeID, x509SVIDTTL: x509TTL, jwtSVIDTTL: jwtTTL, attributes: attributes, createdAt: createdAt,
                    selectorType: type, selectorValue: value))
        }
        return result
    }
}
