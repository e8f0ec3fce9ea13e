public import LatchAudit
public import LatchCore
public import LatchGateway
public import LatchGrants
public import LatchIdentity
import LatchPostgres
import LatchSQLite
public import LatchSecrets
public import LatchStoreSupport
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Opens the store a configuration names, for `latch serve` and for `latch entry`.
///
/// `sqlite` means `<data_dir>/latch.sqlite` (file 0600; the directory is created 0711, so other
/// users can reach the socket in `public/` but cannot list or read anything else); a
/// `postgres://` or `postgresql://` URL means that database (migrated on open).
/// Everything `latch serve` and the commands keep in the store: identity (entries, CA keys, join
/// tokens), grants (grants, tasks, revocations), the gateway's decision records (queryable), tool
/// pins, approvals and quarantines, and sealed secrets. Both backends implement all of them.
public typealias LatchStore = ApprovalRepository & DecisionRecordIndexRepository & DecisionRecordQueryRepository & GrantRepository
    & IdentityStore & LedgerRepository & OperatorRepository & QuarantineRepository & SecretRepository & ToolPinRepository

public enum StoreAccess {
    public static func withStore<Result: Sendable>(
        databaseURL: String, dataDirectory: String, logger: Logger,
        _ body: @Sendable (any LatchStore) async throws -> Result
    ) async throws -> Result {
        if databaseURL == "sqlite" {
            try createDirectory(dataDirectory, mode: 0o711)
            let store = try SQLiteIdentityStore(dataDirectory: dataDirectory)
            defer { try? store.close() }
            return try await body(store)
        }
        guard databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") else {
            throw LatchError(.configuration, "database_url must be \"sqlite\" or a postgres:// URL")
        }
        let configuration = try PostgresStoreConfiguration(url: databaseURL)
        return try await PostgresIdentityStore.withRunningStore(configuration: configuration, logger: logger) { store in
            try await body(store)
        }
    }

    /// The key-encryption key: `kek_file` if set, else `LATCH_KEK`, else `<data_dir>/kek`, which is
    /// created (32 random bytes, mode 0600) when missing, with the SQLite store only.
    ///
    /// - Important: the default file sits beside the database it protects, which only guards
    ///   against a copied database. Production should set `LATCH_KEK` or put `kek_file` elsewhere.
    ///   Several nodes sharing PostgreSQL must share one KEK, so none is generated for them.
    public static func keyEncryptionKey(
        kekFile: String?, dataDirectory: String, databaseURL: String, environment: [String: String], logger: Logger
    ) throws -> KeyEncryptionKey {
        if kekFile != nil || environment[KeyEncryptionKey.environmentVariable] != nil {
            return try KeyEncryptionKey.load(kekFile: kekFile, environment: environment)
        }
        guard databaseURL == "sqlite" else {
            throw LatchError(
                .configuration, "with database_url other than sqlite, set LATCH_KEK or kek_file: every node must use the same KEK")
        }
        try createDirectory(dataDirectory, mode: 0o711)
        let path = dataDirectory + "/kek"
        if let existing = try readKEK(path) { return existing }
        // Written under a temporary name, synced, then linked into place: a crash leaves no
        // truncated KEK, and of two servers starting at once the second reads the first's.
        let kek = KeyEncryptionKey.generate()
        let temporary = path + ".new-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LatchError(.io, "cannot create \(temporary) (errno \(errno))") }
        defer { unlink(temporary) }
        let bytes = kek.unredactedBytes
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = written == bytes.count && fsync(fd) == 0
        close(fd)
        guard synced else { throw LatchError(.io, "cannot write \(temporary) (errno \(errno))") }
        if link(temporary, path) != 0 {
            guard errno == EEXIST, let existing = try readKEK(path) else { throw LatchError(.io, "cannot create \(path) (errno \(errno))") }
            return existing
        }
        logger.notice("created a key-encryption key; set LATCH_KEK or kek_file in production", metadata: ["path": "\(path)"])
        return kek
    }

    /// The KEK at `path`, or nil if there is none. Refuses anything but a regular file owned by
    /// this user and readable by nobody else (a planted or exposed KEK must not be used).
    private static func readKEK(_ path: String) throws -> KeyEncryptionKey? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw LatchError(.io, "cannot open \(path) (errno \(errno))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
            throw LatchError(.configuration, "\(path) must be a regular file owned by this user with mode 0600")
        }
        // Read from the descriptor just checked, not by path again.
        return try KeyEncryptionKey(fileContents: try readAll(fd: fd, path: path, limit: 4096))
    }

    static func createDirectory(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw LatchError(.io, "cannot create \(prefix) (errno \(errno))")
            }
        }
    }
}
