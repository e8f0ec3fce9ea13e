import Foundation
import GRDB
import LatchCore
public import LatchGateway

extension SQLiteIdentityStore: OperatorRepository {
    public func addOperator(_ operator: Operator) async throws -> Bool {
        try `operator`.validate()
        return try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO operators (name, token_sha256, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [`operator`.name, Data(`operator`.tokenSHA256), `operator`.createdAt])
            return db.changesCount > 0
        }
    }

    public func operators() async throws -> [Operator] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, token_sha256, created_at FROM operators ORDER BY name").map { row in
                let digest: Data = row[1]
                return Operator(name: row[0], tokenSHA256: Array(digest), createdAt: row[2])
            }
        }
    }

    public func removeOperator(name: String) async throws -> Bool {
        try await self.pool.write { db in
            try db.execute(sql: "DELETE FROM operators WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }
}
