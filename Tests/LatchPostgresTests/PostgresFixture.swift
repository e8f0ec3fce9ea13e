import Foundation
import LatchCore
import LatchGrants
import LatchIdentity
import LatchSecrets
import LatchTesting
import Logging
import PostgresNIO
import Testing

@testable import LatchPostgres

/// Where the PostgreSQL tests connect: `LATCH_TEST_POSTGRES_URL` (set by `scripts/postgres-start.sh`).
///
/// With `CI=true` the variable is required: the tests fail rather than skip without it. Elsewhere
/// the suites are disabled with a note saying how to run them.
enum PostgresTestEnvironment {
    static let variable = "LATCH_TEST_POSTGRES_URL"
    static var url: String? {
        guard let value = ProcessInfo.processInfo.environment[Self.variable], !value.isEmpty else { return nil }
        return value
    }
    /// CI=true (what CI services set) or LATCH_REQUIRE_POSTGRES=1 (what `.ci/run` sets).
    static var isCI: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["LATCH_REQUIRE_POSTGRES"] == "1"
    }
    /// Run the suites when a server is configured, and always on CI (where a missing URL fails).
    static var shouldRun: Bool { Self.url != nil || Self.isCI }
    static let skipNote: Comment = """
        PostgreSQL tests did not run: LATCH_TEST_POSTGRES_URL is not set. \
        Start a server with `eval "$(scripts/postgres-start.sh)"` and run the tests again.
        """

    static func configuration(schema: String? = nil) throws -> PostgresStoreConfiguration {
        guard let url = Self.url else {
            throw LatchError(
                .configuration, "\(Self.variable) is not set (required with CI=true or LATCH_REQUIRE_POSTGRES=1); run scripts/postgres-start.sh")
        }
        var configuration = try PostgresStoreConfiguration(url: url)
        configuration.schema = schema
        configuration.maximumConnections = 8
        return configuration
    }

    static let logger = Logger(label: "latch.tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A fresh schema (`latch_t_<random>`) in the test database; each handle is a new `PostgresClient`.
struct PostgresFixture: IdentityStoreFixture {
    let schema: String

    init() {
        self.schema = "latch_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    func withStore<Result: Sendable>(_ body: @Sendable (any ConformanceStore) async throws -> Result) async throws -> Result {
        let configuration = try PostgresTestEnvironment.configuration(schema: self.schema)
        return try await PostgresIdentityStore.withRunningStore(configuration: configuration, logger: PostgresTestEnvironment.logger) {
            store in try await body(store)
        }
    }

    /// Drops the schema and everything in it (without migrating first, so it also cleans up
    /// after tests that leave the schema in a state `migrate()` refuses).
    func remove() async {
        guard let configuration = try? PostgresTestEnvironment.configuration(schema: self.schema) else { return }
        let store = PostgresIdentityStore(configuration: configuration, logger: PostgresTestEnvironment.logger)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await store.run() }
            _ = try? await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(self.schema)\" CASCADE"))
            group.cancelAll()
        }
    }
}

extension PostgresFixture {
    /// Runs `body` with a fresh schema and its configuration, then drops the schema, also when
    /// `body` throws.
    static func withSchema<Result: Sendable>(_ body: (PostgresFixture, PostgresStoreConfiguration) async throws -> Result) async throws -> Result {
        let fixture = PostgresFixture()
        do {
            let result = try await body(fixture, try PostgresTestEnvironment.configuration(schema: fixture.schema))
            await fixture.remove()
            return result
        } catch {
            await fixture.remove()
            throw error
        }
    }

    /// The store on `configuration` (migrated first), running while `body` does, with the tests' logger.
    static func run<Result: Sendable>(
        _ configuration: PostgresStoreConfiguration, _ body: @Sendable (PostgresIdentityStore) async throws -> Result
    ) async throws -> Result {
        try await PostgresIdentityStore.withRunningStore(configuration: configuration, logger: PostgresTestEnvironment.logger, body)
    }
}
