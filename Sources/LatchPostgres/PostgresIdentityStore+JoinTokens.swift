import Foundation
import LatchCore
public import LatchIdentity
import LatchStoreSupport
import PostgresNIO

extension PostgresIdentityStore {
    public func createJoinToken(_ token: StoredJoinToken) async throws {
        try StoreValidation.validate(token)
        let inserted = try await self.client.query(
            """
            INSERT INTO join_tokens (token_hash, selector_value, expires_at, created_at)
            VALUES (\(Data(token.tokenHash)), \(token.selectorValue), \(token.expiresAt), \(token.createdAt))
            ON CONFLICT (token_hash) DO NOTHING
            RETURNING 1
            """, logger: self.logger
        ).collect()
        guard !inserted.isEmpty else {
            throw LatchError(.conflict, "a join token with this hash already exists")
        }
    }

    /// One `DELETE … RETURNING`: concurrent callers block on the row lock, and every one but the
    /// first finds the row gone, on this node or any other.
    public func consumeJoinToken(hash: [UInt8], now: Int64) async throws -> StoredJoinToken? {
        try StoreValidation.tokenHash(hash)
        let rows = try await self.client.query(
            """
            DELETE FROM join_tokens WHERE token_hash = \(Data(hash)) AND expires_at > \(now)
            RETURNING selector_value, expires_at, created_at
            """, logger: self.logger)
        for try await (selectorValue, expiresAt, createdAt) in rows.decode((String, Int64, Int64).self) {
            return StoredJoinToken(tokenHash: hash, selectorValue: selectorValue, expiresAt: expiresAt, createdAt: createdAt)
        }
        return nil
    }

    public func deleteExpiredJoinTokens(now: Int64) async throws -> Int {
        try await self.count(
            "WITH deleted AS (DELETE FROM join_tokens WHERE expires_at <= \(now) RETURNING 1) SELECT count(*) FROM deleted")
    }
}
