import Foundation
import LatchCore
public import LatchIdentity
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore {
    public func saveKey(_ key: StoredKey) async throws {
        try StoreValidation.validate(key)
        try await self.transaction { connection in
            try await connection.query(
                """
                INSERT INTO ca_keys (key_id, purpose, state, sealed_private_key, certificate_der, not_before, not_after, created_at)
                VALUES (\(key.keyID), \(key.purpose.rawValue), \(key.state.rawValue), \(Data(key.sealedPrivateKey)),
                        \(key.certificateDER.map { Data($0) }), \(key.notBefore), \(key.notAfter), \(key.createdAt))
                ON CONFLICT (key_id) DO UPDATE SET
                    purpose = excluded.purpose, state = excluded.state, sealed_private_key = excluded.sealed_private_key,
                    certificate_der = excluded.certificate_der, not_before = excluded.not_before,
                    not_after = excluded.not_after, created_at = excluded.created_at
                """, logger: self.logger)
            try await self.bumpRevision(StoreSchema.keysRevisionName, connection)
        }
    }

    public func keys(purpose: KeyPurpose) async throws -> [StoredKey] {
        let rows = try await self.client.query(
            """
            SELECT key_id, purpose, state, sealed_private_key, certificate_der, not_before, not_after, created_at
            FROM ca_keys WHERE purpose = \(purpose.rawValue) ORDER BY created_at, key_id
            """, logger: self.logger)
        var keys: [StoredKey] = []
        for try await (keyID, purposeText, stateText, sealed, certificate, notBefore, notAfter, createdAt) in rows.decode(
            (String, String, String, Data, Data?, Int64, Int64, Int64).self)
        {
            guard let purpose = KeyPurpose(rawValue: purposeText), let state = KeyState(rawValue: stateText) else {
                throw LatchError(.internalError, "stored key \(keyID) has an unknown purpose or state")
            }
            keys.append(
                StoredKey(
                    keyID: keyID, purpose: purpose, state: state, sealedPrivateKey: Array(sealed),
                    certificateDER: certificate.map { Array($0) }, notBefore: notBefore, notAfter: notAfter, createdAt: createdAt))
        }
        return keys
    }

    public func transitionKey(keyID: String, from: KeyState, to: KeyState) async throws -> Bool {
        try await self.transaction { connection in
            let moved = try await connection.query(
                "UPDATE ca_keys SET state = \(to.rawValue) WHERE key_id = \(keyID) AND state = \(from.rawValue) RETURNING key_id",
                logger: self.logger
            ).collect()
            guard moved.count == 1 else { return false }
            try await self.bumpRevision(StoreSchema.keysRevisionName, connection)
            return true
        }
    }

    public func deleteExpiredKeys(before: Int64) async throws -> Int {
        try await self.transaction { connection in
            let deleted = try await connection.query(
                "DELETE FROM ca_keys WHERE state = \(KeyState.retired.rawValue) AND not_after < \(before) RETURNING key_id",
                logger: self.logger
            ).collect()
            if !deleted.isEmpty { try await self.bumpRevision(StoreSchema.keysRevisionName, connection) }
            return deleted.count
        }
    }

    public func keysRevision() async throws -> Int64 {
        try await self.revision(StoreSchema.keysRevisionName)
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        for try await count in try await self.client.query(query, logger: self.logger).decode(Int64.self) {
            return Int(count)
        }
        throw LatchError(.internalError, "count query returned no row")
    }
}
