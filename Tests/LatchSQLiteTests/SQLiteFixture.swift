import Foundation
import LatchGrants
import LatchIdentity
import LatchSQLite
import LatchSecrets
import LatchTesting

/// A fresh data directory under the system temp directory; each handle is a new `DatabasePool`.
struct SQLiteFixture: IdentityStoreFixture {
    let dataDirectory: String

    init() {
        self.dataDirectory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("latch-sqlite-\(UUID().uuidString)").path
    }

    func withStore<Result: Sendable>(_ body: @Sendable (any ConformanceStore) async throws -> Result) async throws -> Result {
        let store = try SQLiteIdentityStore(dataDirectory: self.dataDirectory)
        do {
            let result = try await body(store)
            try store.close()
            return result
        } catch {
            try? store.close()
            throw error
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.dataDirectory)
    }
}
