import Foundation
import LatchCore
public import LatchSecrets
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore: SecretRepository {
    /// One transaction that takes the secrets counter's row lock first: writers of secrets on
    /// every node run one at a time, so "was the name new" is exact and revisions follow commit
    /// order.
    @discardableResult
    public func saveSecret(_ secret: StoredSecret) async throws -> Bool {
        try StoreValidation.validate(secret)
        return try await self.transaction { connection in
            try await self.bumpRevision(StoreSchema.secretsRevisionName, connection)
            let existing = try await connection.query("SELECT 1 FROM secrets WHERE name = \(secret.name.text)", logger: self.logger).collect()
            try await connection.query(
                """
                INSERT INTO secrets (name, sealed_value, created_at, updated_at)
                VALUES (\(secret.name.text), \(Data(secret.sealedValue)), \(secret.createdAt), \(secret.updatedAt))
                ON CONFLICT (name) DO UPDATE SET sealed_value = excluded.sealed_value, updated_at = excluded.updated_at
                """, logger: self.logger)
            return existing.isEmpty
        }
    }

    public func secret(named name: SecretName) async throws -> StoredSecret? {
        let rows = try await self.client.query(
            "SELECT \(unescaped: SecretRows.columns) FROM secrets WHERE name = \(name.text)", logger: self.logger)
        for try await (name, sealed, createdAt, updatedAt) in rows.decode((String, Data, Int64, Int64).self) {
            return try SecretRows.secret(name: name, sealedValue: Array(sealed), createdAt: createdAt, updatedAt: updatedAt)
        }
        return nil
    }

    public func listSecrets() async throws -> [SecretMetadata] {
        let rows = try await self.client.query(
            "SELECT \(unescaped: SecretRows.metadataColumns) FROM secrets ORDER BY name", logger: self.logger)
        var secrets: [SecretMetadata] = []
        for try await (name, createdAt, updatedAt) in rows.decode((String, Int64, Int64).self) {
            secrets.append(try SecretRows.metadata(name: name, createdAt: createdAt, updatedAt: updatedAt))
        }
        return secrets
    }

    /// The counter's row lock first, as in ``saveSecret(_:)`` (one lock order, so a delete and a
    /// save of the same name cannot deadlock); the counter moves only if a row went.
    public func deleteSecret(named name: SecretName) async throws -> Bool {
        try await self.transaction { connection in
            _ = try await connection.query(
                "SELECT revision FROM store_revisions WHERE name = \(StoreSchema.secretsRevisionName) FOR UPDATE", logger: self.logger
            ).collect()
            let deleted = try await connection.query(
                "DELETE FROM secrets WHERE name = \(name.text) RETURNING name", logger: self.logger
            ).collect()
            guard !deleted.isEmpty else { return false }
            try await self.bumpRevision(StoreSchema.secretsRevisionName, connection)
            return true
        }
    }

    public func secretsRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.secretsRevisionName)
    }
}
