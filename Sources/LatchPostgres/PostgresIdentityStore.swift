import Foundation
import LatchCore
public import LatchIdentity
import LatchStoreSupport
public import Logging
import PostgresNIO
public import ServiceLifecycle
import Synchronization

/// The identity store in PostgreSQL, for several Latch nodes sharing one database.
///
/// Owns a postgres-nio `PostgresClient` (a connection pool). The store is a ServiceLifecycle
/// `Service`: ``run()`` runs the pool until cancelled or shut down gracefully, so the app puts the
/// store in its `ServiceGroup`; ``withRunningStore(configuration:logger:_:)`` does the same for
/// one-shot commands and tests. Call ``migrate()`` once the store runs and before using it.
///
/// Every statement binds its values as parameters; the only text spliced into SQL is the schema
/// name, checked against a strict pattern. One-time join-token consumption (`DELETE … RETURNING`)
/// and key compare-and-set (`UPDATE … WHERE state = $from RETURNING`) are single statements, so
/// concurrent callers on any node get exactly one winner. ``entriesRevision()`` and
/// ``keysRevision()`` read counter rows bumped in the same transaction as every entry or key
/// change (not sequences: `nextval` is not transactional, so a reader could see the new number
/// before the change it stands for). The bump's row lock orders writers, so revisions commit in order.
/// Pushing changes to other nodes with LISTEN/NOTIFY is a later step; until then nodes poll the
/// revision.
public final class PostgresIdentityStore: IdentityStore, Service {
    public let configuration: PostgresStoreConfiguration
    let client: PostgresClient
    let logger: Logger
    /// The ledger head this handle expects (the next index), so an append is one statement;
    /// nil until read. Another writer moving it makes the append miss, re-read and retry.
    let expectedLedgerHead = Mutex<Int64?>(nil)

    /// The transaction-level advisory lock held while migrating: one per schema (a hash of
    /// `latch-migrations:<schema>`), so stores in different schemas of one database never wait
    /// for each other's migrations.
    var migrationLockName: String { "latch-migrations:" + (self.configuration.schema ?? "") }

    public init(configuration: PostgresStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let tls: PostgresClient.Configuration.TLS
        switch configuration.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password?.unredacted, database: configuration.database, tls: tls)
        clientConfiguration.options.maximumConnections = max(1, configuration.maximumConnections)
        if let schema = configuration.schema {
            // Unqualified names in every statement resolve in this schema.
            clientConfiguration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    /// Runs the connection pool until the task is cancelled or a graceful shutdown begins.
    public func run() async throws {
        await self.client.run()
    }

    /// Runs a store for the duration of `body`: checks it can be reached (``probe(timeout:)``),
    /// starts its pool, applies migrations, calls `body`, then stops the pool.
    public static func withRunningStore<Result: Sendable>(
        configuration: PostgresStoreConfiguration, logger: Logger,
        _ body: @Sendable (PostgresIdentityStore) async throws -> Result
    ) async throws -> Result {
        let store = PostgresIdentityStore(configuration: configuration, logger: logger)
        try await store.probe()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            // Waits until the pool task is about to run (postgres-nio warns about a lease before `run()`).
            let (started, starting) = AsyncStream<Void>.makeStream()
            group.addTask {
                starting.finish()
                try await store.run()
            }
            defer { group.cancelAll() }
            for await _ in started {}
            try await store.migrate()
            return try await body(store)
        }
    }

    /// Applies pending migrations, recording each in `latch_migrations`.
    ///
    /// Everything runs in one transaction holding a transaction-level advisory lock (per schema), so nodes
    /// starting at once apply each migration exactly once (the others wait, then find nothing to
    /// do); a failing migration leaves the database as it was. A database that records a migration
    /// this version does not know (a newer Latch migrated it) is refused with a configuration error.
    public func migrate() async throws {
        try await self.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(self.migrationLockName), 0))", logger: self.logger)
            if let schema = self.configuration.schema {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: self.logger)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS latch_migrations (
                    version INTEGER NOT NULL PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """, logger: self.logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM latch_migrations", logger: self.logger)
                .decode(Int32.self)
            {
                applied.insert(Int(version))
            }
            let known = Set(StoreSchema.migrations.map(\.version))
            if let newer = applied.subtracting(known).max() {
                // Migrated by a newer Latch: refuse rather than write rows its schema may not accept.
                throw LatchError(
                    .configuration, "the database has schema migration \(newer), unknown to this Latch (a newer one migrated it); upgrade Latch")
            }
            for migration in StoreSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements(.postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    """
                    INSERT INTO latch_migrations (version, name, applied_at)
                    VALUES (\(Int32(migration.version)), \(migration.name), (extract(epoch FROM clock_timestamp()) * 1000)::bigint)
                    """, logger: self.logger)
                self.logger.info("applied store migration", metadata: ["store.migration": "\(migration.version) \(migration.name)"])
            }
        }
        if try await !self.serverCommitsDurably() {
            self.logger.warning("PostgreSQL has fsync or synchronous_commit off: acknowledged writes may be lost in a crash")
        }
    }

    /// Whether the server makes commits durable before acknowledging them: `fsync` on and
    /// `synchronous_commit` not `off` (PostgreSQL's defaults). ``migrate()`` logs a warning if not;
    /// the store cannot change server settings.
    public func serverCommitsDurably() async throws -> Bool {
        let rows = try await self.client.query(
            "SELECT current_setting('fsync'), current_setting('synchronous_commit')", logger: self.logger)
        for try await (fsync, synchronousCommit) in rows.decode((String, String).self) {
            return fsync == "on" && synchronousCommit != "off"
        }
        return false
    }

    /// The versions recorded in `latch_migrations`, in order.
    public func appliedMigrations() async throws -> [Int] {
        var versions: [Int] = []
        for try await version in try await self.client.query("SELECT version FROM latch_migrations ORDER BY version", logger: self.logger)
            .decode(Int32.self)
        {
            versions.append(Int(version))
        }
        return versions
    }

    /// The value of a `store_revisions` row.
    func revision(_ name: String) async throws -> Int64 {
        let rows = try await self.client.query("SELECT revision FROM store_revisions WHERE name = \(name)", logger: self.logger)
        for try await revision in rows.decode(Int64.self) {
            return revision
        }
        throw LatchError(.internalError, "store_revisions has no '\(name)' row")
    }

    /// Adds one to a `store_revisions` row on `connection`, inside the caller's transaction (which
    /// then holds the row's lock); returns the new value.
    @discardableResult
    func bumpRevision(_ name: String, _ connection: PostgresConnection) async throws -> Int64 {
        let rows = try await connection.query(
            "UPDATE store_revisions SET revision = revision + 1 WHERE name = \(name) RETURNING revision", logger: self.logger)
        var revisions: [Int64] = []
        for try await revision in rows.decode(Int64.self) { revisions.append(revision) }
        guard revisions.count == 1, let revision = revisions.first else {
            throw LatchError(.internalError, "store_revisions has no '\(name)' row")
        }
        return revision
    }

    /// Runs `body` in a transaction on one pooled connection: commits if it returns, rolls back if
    /// it throws (rethrowing its error unchanged).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await self.client.withConnection { connection in
            try await connection.query("BEGIN", logger: self.logger)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                do {
                    try await connection.query("ROLLBACK", logger: self.logger)
                } catch {
                    // The connection is unusable; closing it makes the pool replace it.
                    try? await connection.close()
                }
                throw error
            }
            try await connection.query("COMMIT", logger: self.logger)
            return result
        }
    }
}
