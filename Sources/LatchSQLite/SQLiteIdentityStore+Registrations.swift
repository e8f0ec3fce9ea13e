import Foundation
import GRDB
import LatchCore
public import LatchIdentity
import LatchStoreSupport

extension SQLiteIdentityStore {
    public func createEntry(_ entry: RegistrationEntry) async throws {
        try StoreValidation.validate(entry)
        let attributes = AttributesJSON.encode(entry.attributes)
        try await self.pool.write { db in
            do {
                try db.execute(
                    sql: """
                        INSERT INTO registration_entries (id, spiffe_id, x509_svid_ttl, jwt_svid_ttl, attributes, created_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [entry.id, entry.spiffeID.description, entry.x509SVIDTTL, entry.jwtSVIDTTL, attributes, entry.createdAt])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw LatchError(.conflict, "a registration entry with id \(entry.id) already exists")
            }
            for selector in entry.selectors {
                try db.execute(
                    sql: "INSERT INTO registration_selectors (entry_id, type, value) VALUES (?, ?, ?)",
                    arguments: [entry.id, selector.type, selector.value])
            }
            try Self.bumpRevision(StoreSchema.entriesRevisionName, db)
        }
    }

    public func entry(id: String) async throws -> RegistrationEntry? {
        let rows = try await self.pool.read { db in
            try Self.entryRows(
                db,
                sql: """
                    SELECT \(EntryRows.columns) FROM registration_entries e
                    JOIN registration_selectors s ON s.entry_id = e.id
                    WHERE e.id = ? ORDER BY s.type, s.value
                    """,
                arguments: [id])
        }
        return try EntryRows.assemble(rows).first
    }

    public func listEntries() async throws -> [RegistrationEntry] {
        let rows = try await self.pool.read { db in
            try Self.entryRows(
                db,
                sql: """
                    SELECT \(EntryRows.columns) FROM registration_entries e
                    JOIN registration_selectors s ON s.entry_id = e.id
                    ORDER BY e.created_at, e.id, s.type, s.value
                    """,
                arguments: [])
        }
        return try EntryRows.assemble(rows)
    }

    public func deleteEntry(id: String) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM registration_entries WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try Self.bumpRevision(StoreSchema.entriesRevisionName, db)
            return true
        }
    }

    public func entries(matching selectors: Set<Selector>) async throws -> [RegistrationEntry] {
        guard !selectors.isEmpty else { return [] }
        // The presented set as one JSON parameter: [["type","value"],…], read back with json_each.
        var presented = "["
        for (index, selector) in selectors.enumerated() {
            if index > 0 { presented += "," }
            JSONText.appendArray([selector.type, selector.value], to: &presented)
        }
        presented += "]"
        let rows = try await self.pool.read { [presented] db in
            try Self.entryRows(
                db,
                sql: """
                    WITH presented(type, value) AS (
                        SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]') FROM json_each(?) j
                    )
                    \(EntryRows.matchingBody)
                    """,
                arguments: [presented])
        }
        return try EntryRows.assemble(rows)
    }

    public func entriesRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.entriesRevisionName)
    }

    static func entryRows(_ db: Database, sql: String, arguments: StatementArguments) throws -> [EntrySelectorRow] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            EntrySelectorRow(
                id: row[0], spiffeID: row[1], x509SVIDTTL: row[2], jwtSVIDTTL: row[3], attributes: row[4], createdAt: row[5],
                selectorType: row[6], selectorValue: row[7])
        }
    }
}
