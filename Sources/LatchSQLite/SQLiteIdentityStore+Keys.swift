import Foundation
import GRDB
import LatchCore
public import LatchIdentity
import LatchStoreSupport

extension SQLiteIdentityStore {
    public func saveKey(_ key: StoredKey) async throws {
        try StoreValidation.validate(key)
        try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ca_keys (key_id, purpose, state, sealed_private_key, certificate_der, not_before, not_after, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key_id) DO UPDATE SET
                        purpose = excluded.purpose, state = excluded.state, sealed_private_key = excluded.sealed_private_key,
                        certificate_der = excluded.certificate_der, not_before = excluded.not_before,
                        not_after = excluded.not_after, created_at = excluded.created_at
                    """,
                arguments: [
                    key.keyID, key.purpose.rawValue, key.state.rawValue, Data(key.sealedPrivateKey), key.certificateDER.map { Data($0) },
                    key.notBefore, key.notAfter, key.createdAt,
                ])
            try Self.bumpRevision(StoreSchema.keysRevisionName, db)
        }
    }

    public func keys(purpose: KeyPurpose) async throws -> [StoredKey] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT key_id, purpose, state, sealed_private_key, certificate_der, not_before, not_after, created_at
                    FROM ca_keys WHERE purpose = ? ORDER BY created_at, key_id
                    """,
                arguments: [purpose.rawValue]
            ).map { row throws in
                let keyID: String = row[0]
                guard let purpose = KeyPurpose(rawValue: row[1]), let state = KeyState(rawValue: row[2]) else {
                    throw LatchError(.internalError, "stored key \(keyID) has an unknown purpose or state")
                }
                let sealed: Data = row[3]
                let certificate: Data? = row[4]
                return StoredKey(
                    keyID: keyID, purpose: purpose, state: state, sealedPrivateKey: Array(sealed), certificateDER: certificate.map { Array($0) },
                    notBefore: row[5], notAfter: row[6], createdAt: row[7])
            }
        }
    }

    public func transitionKey(keyID: String, from: KeyState, to: KeyState) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(
                sql: "UPDATE ca_keys SET state = ? WHERE key_id = ? AND state = ?", arguments: [to.rawValue, keyID, from.rawValue])
            guard db.changesCount == 1 else { return false }
            try Self.bumpRevision(StoreSchema.keysRevisionName, db)
            return true
        }
    }

    public func deleteExpiredKeys(before: Int64) async throws -> Int {
        try await self.pool.write { db in
            try db.execute(
                sql: "DELETE FROM ca_keys WHERE state = ? AND not_after < ?", arguments: [KeyState.retired.rawValue, before])
            let deleted = db.changesCount
            if deleted > 0 { try Self.bumpRevision(StoreSchema.keysRevisionName, db) }
            return deleted
        }
    }

    public func keysRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.keysRevisionName)
    }
}
