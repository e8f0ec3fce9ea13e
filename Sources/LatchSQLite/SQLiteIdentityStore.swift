import Foundation
import GRDB
import LatchCore
public import LatchIdentity
import LatchStoreSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(Glibc)
private let closeDescriptor = Glibc.close
#elseif canImport(Musl)
private let closeDescriptor = Musl.close
#elseif canImport(Darwin)
private let closeDescriptor = Darwin.close
#endif

/// Settings of the embedded SQLite store.
public struct SQLiteStoreConfiguration: Sendable {
    /// How long a write waits for another process (the CLI, a second server) holding the write
    /// lock before failing with `SQLITE_BUSY`. Default 5 seconds.
    public var busyTimeout: Duration = .seconds(5)
    /// Concurrent read connections. Default 4.
    public var maximumReaderCount: Int = 4

    public init() {}
}

/// The identity store in one SQLite file: `<data-dir>/latch.sqlite` (the embedded default).
///
/// A GRDB `DatabasePool`: one writer and several readers over a WAL journal, so reads never wait
/// for writes. Schema migrations run with GRDB's `DatabaseMigrator` when the store opens.
///
/// Durability: `journal_mode=WAL` with `synchronous=FULL`. GRDB sets `NORMAL` for WAL pools,
/// which survives a crash of the process but may lose the last commits on a power cut or kernel
/// crash (the WAL is synced only at checkpoints). A write this store acknowledges must survive
/// both, so the writer connection is switched to `FULL`: every commit syncs the WAL before
/// returning. The cost is one `fsync` per write transaction: grant issuance, the one frequent
/// write, is group-committed (many grants per transaction, see `GrantAuthority`).
///
/// Several processes may open the same file (a running server and `latch entry create
/// --data-dir`): write transactions are `BEGIN IMMEDIATE` and wait up to
/// ``SQLiteStoreConfiguration/busyTimeout`` for the lock; ``entriesRevision()`` and
/// ``keysRevision()`` read counter rows bumped in the same transaction as every entry or key
/// change, so one process sees another's changes on its next read.
///
/// - Important: the file holds sealed CA keys and join-token hashes: it is created (and kept)
///   with mode 0600, its directory with 0700 when this store creates it.
public final class SQLiteIdentityStore: IdentityStore {
    /// The file name inside a data directory.
    public static let fileName = "latch.sqlite"

    /// Path of the database file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) `<dataDirectory>/latch.sqlite`, creating the directory (0700).
    public convenience init(dataDirectory: String, configuration: SQLiteStoreConfiguration = .init()) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw LatchError(.configuration, "data directory \(dataDirectory) exists and is not a directory")
            }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw LatchError(.io, "cannot create data directory \(dataDirectory): \(error)")
            }
        }
        try self.init(path: (dataDirectory as NSString).appendingPathComponent(Self.fileName), configuration: configuration)
    }

    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    ///
    /// Opening is serialized across processes (and handles) by an exclusive `flock` on
    /// `<path>-open-lock` (``lockOpening(_:)``), held until the migrations are applied: GRDB's migrator reads which
    /// migrations are applied and then applies each in its own transaction, so two processes
    /// starting together on a new (or older) file would both apply the same migration, and one
    /// would fail ("table … already exists"). The lock file is never removed (removing a lock
    /// file lets a third process lock a new one beside a holder of the old). It is a file of its
    /// own: SQLite's locks on the database are never touched by it.
    public init(path: String, configuration: SQLiteStoreConfiguration = .init()) throws {
        self.path = path
        let openLock = try Self.lockOpening(path)
        defer { if let openLock { _ = closeDescriptor(openLock) } }
        try Self.restrictPermissions(path, create: true)

        var config = Configuration()
        config.label = "latch.store"
        config.foreignKeysEnabled = true
        config.maximumReaderCount = max(1, configuration.maximumReaderCount)
        let timeout = configuration.busyTimeout.components
        config.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // After GRDB's WAL setup, which sets NORMAL: see the type's documentation.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                // Checkpoint every 16384 pages (64 MiB of WAL) rather than SQLite's 1000: each
                // checkpoint copies pages back and syncs the file on the writer's commit path, and
                // a page written many times between two checkpoints is copied once. Measured:
                // about a third more durable grant issuances per second (Benchmarks/Identity).
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
                let level = try Int.fetchOne(db, sql: "PRAGMA synchronous")
                guard level == 2 else {
                    throw LatchError(.internalError, "SQLite refused synchronous=FULL (got \(level.map(String.init) ?? "nil"))")
                }
            }
            // A file migrated by a newer Latch has tables this version does not know: refuse it
            // rather than write rows the newer schema may not accept.
            if try pool.read({ db in try Self.migrator.hasBeenSuperseded(db) }) {
                throw LatchError(.configuration, "\(path) was written by a newer Latch (unknown schema migrations); upgrade Latch")
            }
            try Self.migrator.migrate(pool)
        } catch let error as LatchError {
            throw error
        } catch {
            throw LatchError(.io, "cannot open SQLite store \(path): \(error)")
        }
        self.pool = pool
        for suffix in ["-wal", "-shm"] {
            try Self.restrictPermissions(path + suffix, create: false)
        }
    }

    /// Closes every connection. Later calls on this store fail.
    public func close() throws {
        try self.pool.close()
    }

    /// The migrations in ``StoreSchema`` as GRDB migrations (recorded in `grdb_migrations`).
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in StoreSchema.migrations {
            migrator.registerMigration("\(migration.version) \(migration.name)") { db in
                for statement in migration.statements(.sqlite) {
                    try db.execute(sql: statement)
                }
            }
        }
        return migrator
    }

    /// The versions of the applied migrations, in order.
    public func appliedMigrations() async throws -> [String] {
        try await self.pool.read { db in try Self.migrator.appliedMigrations(db) }
    }

    /// The value of a `store_revisions` row.
    func revision(_ name: String) async throws -> Int64 {
        try await self.pool.read { db in
            guard let revision = try Int64.fetchOne(db, sql: "SELECT revision FROM store_revisions WHERE name = ?", arguments: [name]) else {
                throw LatchError(.internalError, "store_revisions has no '\(name)' row")
            }
            return revision
        }
    }

    /// Adds one to a `store_revisions` row, inside the caller's write transaction.
    static func bumpRevision(_ name: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE store_revisions SET revision = revision + 1 WHERE name = ?", arguments: [name])
        guard db.changesCount == 1 else {
            throw LatchError(.internalError, "store_revisions has no '\(name)' row")
        }
    }

    /// Takes the exclusive `flock` on `<path>-open-lock`, waiting up to ``openLockWait`` for
    /// another opener to finish its migrations; closing the returned descriptor releases it.
    ///
    /// The file is opened read-only (`flock` needs no more). A new one is created with 0600 and
    /// given the owner of the database file (or of its directory), so an operator's command run
    /// as root on the service's data directory does not leave a lock the service cannot open. One
    /// this process cannot open anyway (made by another user before) is skipped, returning nil:
    /// opening then goes unserialized, as before the lock existed, and at worst a concurrent
    /// first open fails (migrations are transactions), never a store damaged.
    private static func lockOpening(_ path: String) throws -> Int32? {
        let lockPath = path + "-open-lock"
        var fd = open(lockPath, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            var owner = stat()
            let directory = (path as NSString).deletingLastPathComponent
            if stat(path, &owner) == 0 || stat(directory.isEmpty ? "." : directory, &owner) == 0 {
                _ = fchown(fd, owner.st_uid, owner.st_gid)  // fails unless root; then we own it already
            }
        } else if errno == EEXIST {
            fd = open(lockPath, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            if errno == EACCES || errno == EPERM { return nil }
            throw LatchError(.io, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now.advanced(by: Self.openLockWait)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR, ContinuousClock.now < deadline else {
                _ = closeDescriptor(fd)
                if code == EWOULDBLOCK || code == EINTR {
                    throw LatchError(.io, "another process has held \(lockPath) for \(Self.openLockWait) (opening or migrating the store)")
                }
                throw LatchError(.io, "cannot lock \(lockPath): \(String(cString: strerror(code)))")
            }
            usleep(10_000)
        }
        return fd
    }

    /// How long an open waits for another opener's migrations (long ones copy rows).
    static let openLockWait: Duration = .seconds(600)

    /// Creates the file with 0600 if asked and missing; sets 0600 on an existing file.
    ///
    /// An existing file is never opened here: closing any descriptor of a file releases every
    /// POSIX lock this process holds on it, so opening and closing a database another handle in
    /// this process has open would silently drop that handle's SQLite locks.
    private static func restrictPermissions(_ path: String, create: Bool) throws {
        if create {
            let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                _ = closeDescriptor(fd)
            } else if errno != EEXIST {
                throw LatchError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
        if chmod(path, 0o600) != 0, errno != ENOENT {
            throw LatchError(.io, "cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
        }
    }
}
