import Foundation
import LatchCore
public import LatchGateway
import PostgresNIO

extension PostgresIdentityStore: OperatorRepository {
    public func addOperator(_ operator: Operator) async throws -> Bool {
        try `operator`.validate()
        let inserted = try await self.client.query(
            """
            INSERT INTO operators (name, token_sha256, created_at) VALUES (\(`operator`.name), \(Data(`operator`.tokenSHA256)), \(`operator`.createdAt))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """, logger: self.logger
        ).collect()
        return !inserted.isEmpty
    }

    public func operators() async throws -> [Operator] {
        var operators: [Operator] = []
        for try await (name, digest, createdAt) in try await self.client.query(
            "SELECT name, token_sha256, created_at FROM operators ORDER BY name", logger: self.logger
        ).decode((String, Data, Int64).self) {
            operators.append(Operator(name: name, tokenSHA256: Array(digest), createdAt: createdAt))
        }
        return operators
    }

    public func removeOperator(name: String) async throws -> Bool {
        guard !name.utf8.contains(0) else { return false }
        let removed = try await self.client.query("DELETE FROM operators WHERE name = \(name) RETURNING 1", logger: self.logger).collect()
        return !removed.isEmpty
    }
}
