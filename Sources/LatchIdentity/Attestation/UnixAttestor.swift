import Crypto
public import LatchCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's view of the caller on a unix socket (SO_PEERCRED), fixed when it connected.
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// The process's start time (field 22 of `/proc/<pid>/stat`) read when it connected, if known.
    /// Attestation then refuses a pid that has since been reused by another process.
    public var startTime: Int64?
    public init(pid: Int32, uid: UInt32, gid: UInt32, startTime: Int64? = nil) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.startTime = startTime
    }
}

/// The few file operations the unix attestor needs, so tests can point it at a fake `/proc`.
public protocol ProcessFileSystem: Sendable {
    /// Reads a whole small file (at most `limit` bytes).
    func readFile(_ path: String, limit: Int) throws(LatchError) -> [UInt8]
    /// The target of a symbolic link.
    func readLink(_ path: String) throws(LatchError) -> String
    /// SHA-256 of a file's contents (following links), streamed; `nil` when the file is larger
    /// than `limit` bytes (not read).
    func sha256(ofFile path: String, limit: Int64) throws(LatchError) -> [UInt8]?
}

/// The real file system, optionally under a root directory (tests build a fake `proc/` there).
public struct HostProcessFileSystem: ProcessFileSystem {
    public let root: String
    /// Remembers executable digests by file identity, so a server attesting the same programs
    /// over and over does not re-read them (nil: hash on every call).
    public let digestCache: FileDigestCache?
    public init(root: String = "", digestCache: FileDigestCache? = nil) {
        self.root = root
        self.digestCache = digestCache
    }

    public func readFile(_ path: String, limit: Int) throws(LatchError) -> [UInt8] {
        try readWholeFile(path: self.root + path, limit: limit)
    }

    public func readLink(_ path: String) throws(LatchError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(self.root + path, &buffer, 4096)
        guard n >= 0 else { throw LatchError(.io, "cannot read link \(path) (errno \(errno))") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func sha256(ofFile path: String, limit: Int64) throws(LatchError) -> [UInt8]? {
        let fd = open(self.root + path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LatchError(.io, "cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LatchError(.io, "cannot stat \(path) (errno \(errno))") }
        guard Int64(info.st_size) <= limit else { return nil }
        let identity = FileDigestCache.FileIdentity(info)
        if let cached = self.digestCache?.digest(for: identity) { return cached }
        var hasher = SHA256()
        try forEachChunk(fd: fd, path: path, size: 64 * 1024) { chunk in hasher.update(data: chunk) }
        let digest = Array(hasher.finalize())
        // Cache only what was read from a file that did not change meanwhile and whose last change
        // is older than the file system's timestamp granularity: a rewrite within the same tick
        // could otherwise keep the key of the old contents.
        var after = stat()
        if let cache = self.digestCache, fstat(fd, &after) == 0, FileDigestCache.FileIdentity(after) == identity {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            if Int64(now.tv_sec) - Int64(info.st_ctim.tv_sec) >= 2 { cache.store(digest, for: identity) }
        }
        return digest
    }
}

/// SHA-256 digests of files keyed by what identifies their contents: device, inode, size and
/// modification and status-change times (in nanoseconds). A write or replacement of the file
/// changes the key (the status-change time cannot be set by the file's owner); digests are stored
/// only for files unchanged during hashing and last changed at least 2 s earlier, so a rewrite
/// within one timestamp tick cannot leave a stale digest under the new contents' key.
///
/// Bounded: when full (default 1,024 files) it starts over.
public final class FileDigestCache: Sendable {
    struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let modified: Int64
        let changed: Int64

        init(_ info: stat) {
            self.device = UInt64(info.st_dev)
            self.inode = UInt64(info.st_ino)
            self.size = Int64(info.st_size)
            self.modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
            self.changed = Int64(info.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_ctim.tv_nsec)
        }
    }

    private let digests = Mutex<[FileIdentity: [UInt8]]>([:])
    private let capacity: Int

    public init(capacity: Int = 1024) { self.capacity = capacity }

    func digest(for identity: FileIdentity) -> [UInt8]? { self.digests.withLock { $0[identity] } }

    /// How many digests are kept.
    public var count: Int { self.digests.withLock { $0.count } }

    func store(_ digest: [UInt8], for identity: FileIdentity) {
        self.digests.withLock { digests in
            if digests.count >= self.capacity { digests.removeAll(keepingCapacity: true) }
            digests[identity] = digest
        }
    }
}

/// Attests a local workload from its peer credentials: `unix:uid:N`, `unix:gid:N`, `unix:pid:N`,
/// and from `/proc/<pid>/exe`: `unix:path:/abs/exe` and `unix:sha256:<hex>`.
///
/// - Important: PID reuse. The process's start time (field 22 of `/proc/<pid>/stat`) is read
///   before and after the executable is read and hashed; if it changed (or the process vanished),
///   the PID now names another process and attestation fails with `processChanged` instead of
///   returning selectors for the wrong program.
public struct UnixAttestor: Sendable {
    public let fileSystem: any ProcessFileSystem
    /// When true, failing to read the executable (e.g. another user's process and Latch not root)
    /// is an error; when false the path and hash selectors are omitted.
    public var requireExecutable: Bool
    /// Executables larger than this (bytes, default 256 MiB) are not hashed: the `unix:sha256`
    /// selector is omitted (or attestation fails when `requireExecutable`), so a caller cannot tie
    /// up the server with a huge or sparse file.
    public var maxExecutableSize: Int64

    public init(
        fileSystem: any ProcessFileSystem = HostProcessFileSystem(), requireExecutable: Bool = false,
        maxExecutableSize: Int64 = 256 * 1024 * 1024
    ) {
        self.fileSystem = fileSystem
        self.requireExecutable = requireExecutable
        self.maxExecutableSize = maxExecutableSize
    }

    public func attest(_ peer: PeerCredentials) throws(LatchError) -> [Selector] {
        var selectors = [
            Selector(type: "unix", value: "uid:\(peer.uid)"),
            Selector(type: "unix", value: "gid:\(peer.gid)"),
            Selector(type: "unix", value: "pid:\(peer.pid)"),
        ]
        guard peer.pid > 0 else { throw LatchError(.invalidInput, "peer pid \(peer.pid) is not a process") }
        let before = try self.startTime(pid: peer.pid)
        // The connection may outlive the process that opened it: its pid may now name another.
        if let connected = peer.startTime, connected != before {
            throw LatchError(.processChanged, "process \(peer.pid) is not the one that connected")
        }
        let exe = "/proc/\(peer.pid)/exe"
        let path: String
        let digest: [UInt8]?
        do {
            path = try self.fileSystem.readLink(exe)
            digest = try self.fileSystem.sha256(ofFile: exe, limit: self.maxExecutableSize)
        } catch {
            // The process may have exited (and its PID been reused) while we read.
            let after = try? self.startTime(pid: peer.pid)
            if after != before { throw LatchError(.processChanged, "process \(peer.pid) changed during attestation") }
            if self.requireExecutable { throw error }
            return selectors.sorted()
        }
        let after: Int64
        do { after = try self.startTime(pid: peer.pid) } catch {
            throw LatchError(.processChanged, "process \(peer.pid) exited during attestation")
        }
        guard after == before else { throw LatchError(.processChanged, "process \(peer.pid) changed during attestation") }
        selectors.append(Selector(type: "unix", value: "path:\(path)"))
        if let digest {
            selectors.append(Selector(type: "unix", value: "sha256:\(hexString(digest))"))
        } else if self.requireExecutable {
            throw LatchError(.invalidInput, "the executable of process \(peer.pid) is larger than \(self.maxExecutableSize) bytes")
        }
        return selectors.sorted()
    }

    /// Field 22 (`starttime`, clock ticks since boot) of `/proc/<pid>/stat`. The command name
    /// (field 2) may contain spaces and parentheses, so fields are counted after the last `)`.
    public func startTime(pid: Int32) throws(LatchError) -> Int64 {
        let stat: [UInt8]
        do { stat = try self.fileSystem.readFile("/proc/\(pid)/stat", limit: 4096) } catch {
            throw LatchError(.processChanged, "process \(pid) is gone")
        }
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else {
            throw LatchError(.invalidInput, "/proc/\(pid)/stat does not parse")
        }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
        // After ")": field 3 (state) is index 0, so field 22 is index 19.
        guard fields.count > 19, let value = Int64(String(decoding: fields[19], as: UTF8.self).trimmingNewline) else {
            throw LatchError(.invalidInput, "/proc/\(pid)/stat has no start time")
        }
        return value
    }
}

extension String {
    fileprivate var trimmingNewline: String {
        var s = self
        while s.last == "\n" { s.removeLast() }
        return s
    }
}
