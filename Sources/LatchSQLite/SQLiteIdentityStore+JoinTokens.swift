import Foundation
import GRDB
import LatchCore
public import LatchIdentity
import LatchStoreSupport

extension SQLiteIdentityStore {
    public func createJoinToken(_ token: StoredJoinToken) async throws {
        try StoreValidation.validate(token)
        try await self.pool.write { db in
            do {
                try db.execute(
                    sql: "INSERT INTO join_tokens (token_hash, selector_value, expires_at, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [Data(token.tokenHash), token.selectorValue, token.expiresAt, token.createdAt])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw LatchError(.conflict, "a join token with this hash already exists")
            }
        }
    }

    /// One `DELETE … RETURNING` in an immediate write transaction: of any number of callers, in
    /// this process or others on the same file, exactly one gets the token.
    public func consumeJoinToken(hash: [UInt8], now: Int64) async throws -> StoredJoinToken? {
        try StoreValidation.tokenHash(hash)
        return try await self.pool.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        DELETE FROM join_tokens WHERE token_hash = ? AND expires_at > ?
                        RETURNING selector_value, expires_at, created_at
                        """,
                    arguments: [Data(hash), now])
            else { return nil }
            return StoredJoinToken(tokenHash: hash, selectorValue: row[0], expiresAt: row[1], createdAt: row[2])
        }
    }

    public func deleteExpiredJoinTokens(now: Int64) async throws -> Int {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM join_tokens WHERE expires_at <= ?", arguments: [now])
            return db.changesCount
        }
    }
}
