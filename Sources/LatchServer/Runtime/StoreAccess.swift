public import LatchCore
public import LatchIdentity
import LatchPostgres
import LatchSQLite
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Opens the store a configuration names, for `latch serve` and for `latch entry`.
///
/// `sqlite` means `<data_dir>/latch.sqlite` (file 0600; the directory is created 0711, so other
/// users can reach the socket in `public/` but cannot list or read anything else); a
/// `postgres://` or `postgresql://` URL means that database (migrated on open).
public enum StoreAccess {
    public static func withStore<Result: Sendable>(
        databaseURL: String, dataDirectory: String, logger: Logger,
        _ body: @Sendable (any IdentityStore) async throws -> Result
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
    /// created (32 random bytes, mode 0600, never overwritten) when missing.
    ///
    /// - Important: the default file sits beside the database it protects, which only guards
    ///   against a copied database. Production should set `LATCH_KEK` or put `kek_file` elsewhere.
    public static func keyEncryptionKey(
        kekFile: String?, dataDirectory: String, environment: [String: String], logger: Logger
    ) throws -> KeyEncryptionKey {
        if kekFile != nil || environment[KeyEncryptionKey.environmentVariable] != nil {
            return try KeyEncryptionKey.load(kekFile: kekFile, environment: environment)
        }
        try createDirectory(dataDirectory, mode: 0o711)
        let path = dataDirectory + "/kek"
        if access(path, F_OK) == 0 { return try KeyEncryptionKey(contentsOfFile: path) }
        let kek = KeyEncryptionKey.generate()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LatchError(.io, "cannot create \(path) (errno \(errno))") }
        defer { close(fd) }
        let bytes = kek.unredactedBytes
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw LatchError(.io, "cannot write \(path) (errno \(errno))") }
        logger.notice("created a key-encryption key; set LATCH_KEK or kek_file in production", metadata: ["path": "\(path)"])
        return kek
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
