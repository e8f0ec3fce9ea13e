import Foundation
import GRDB
import LatchCore
public import LatchSecrets
import LatchStoreSupport

extension SQLiteIdentityStore: SecretRepository {
    /// One write transaction (SQLite's single writer): whether the name exists, the upsert, and
    /// the revision bump.
    @discardableResult
    public func saveSecret(_ secret: StoredSecret) async throws -> Bool {
        try StoreValidation.validate(secret)
        return try await self.pool.write { db in
            let existed = try Bool.fetchOne(db, sql: "SELECT 1 FROM secrets WHERE name = ?", arguments: [secret.name.text]) ?? false
            try db.execute(
                sql: """
                    INSERT INTO secrets (name, sealed_value, created_at, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at
                    """,
                arguments: [secret.name.text, Data(secret.sealedValue), secret.createdAt, secret.updatedAt])
            try Self.bumpRevision(StoreSchema.secretsRevisionName, db)
            return !existed
        }
    }

    public func secret(named name: SecretName) async throws -> StoredSecret? {
        try await self.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(SecretRows.columns) FROM secrets WHERE name = ?", arguments: [name.text]) else {
                return nil
            }
            let sealed: Data = row[1]
            return try SecretRows.secret(name: row[0], sealedValue: Array(sealed), createdAt: row[2], updatedAt: row[3])
        }
    }

    public func listSecrets() async throws -> [SecretMetadata] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(SecretRows.metadataColumns) FROM secrets ORDER BY name").map { row throws in
                try SecretRows.metadata(name: row[0], createdAt: row[1], updatedAt: row[2])
            }
        }
    }

    public func deleteSecret(named name: SecretName) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM secrets WHERE name = ?", arguments: [name.text])
            guard db.changesCount > 0 else { return false }
            try Self.bumpRevision(StoreSchema.secretsRevisionName, db)
            return true
        }
    }

    public func secretsRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.secretsRevisionName)
    }
}
