import Crypto
public import LatchCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's view of the caller on a unix socket (SO_PEERCRED).
public struct PeerCredentials: Hashable, Sendable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// The few file operations the unix attestor needs, so tests can point it at a fake `/proc`.
public protocol ProcessFileSystem: Sendable {
    /// Reads a whole small file (at most `limit` bytes).
    func readFile(_ path: String, limit: Int) throws(LatchError) -> [UInt8]
    /// The target of a symbolic link.
    func readLink(_ path: String) throws(LatchError) -> String
    /// SHA-256 of a file's contents (following links), streamed.
    func sha256(ofFile path: String) throws(LatchError) -> [UInt8]
}

/// The real file system, optionally under a root directory (tests build a fake `proc/` there).
public struct HostProcessFileSystem: ProcessFileSystem {
    public let root: String
    public init(root: String = "") { self.root = root }

    public func readFile(_ path: String, limit: Int) throws(LatchError) -> [UInt8] {
        try readWholeFile(path: self.root + path, limit: limit)
    }

    public func readLink(_ path: String) throws(LatchError) -> String {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(self.root + path, &buffer, 4096)
        guard n >= 0 else { throw LatchError(.io, "cannot read link \(path) (errno \(errno))") }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func sha256(ofFile path: String) throws(LatchError) -> [UInt8] {
        let fd = open(self.root + path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LatchError(.io, "cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LatchError(.io, "cannot read \(path) (errno \(errno))")
            }
            if n == 0 { break }
            hasher.update(data: buffer[0..<n])
        }
        return Array(hasher.finalize())
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

    public init(fileSystem: any ProcessFileSystem = HostProcessFileSystem(), requireExecutable: Bool = false) {
        self.fileSystem = fileSystem
        self.requireExecutable = requireExecutable
    }

    public func attest(_ peer: PeerCredentials) throws(LatchError) -> [Selector] {
        var selectors = [
            Selector(type: "unix", value: "uid:\(peer.uid)"),
            Selector(type: "unix", value: "gid:\(peer.gid)"),
            Selector(type: "unix", value: "pid:\(peer.pid)"),
        ]
        guard peer.pid > 0 else { throw LatchError(.invalidInput, "peer pid \(peer.pid) is not a process") }
        let before = try self.startTime(pid: peer.pid)
        let exe = "/proc/\(peer.pid)/exe"
        let path: String
        let digest: [UInt8]
        do {
            path = try self.fileSystem.readLink(exe)
            digest = try self.fileSystem.sha256(ofFile: exe)
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
        selectors.append(Selector(type: "unix", value: "sha256:\(hexString(digest))"))
        return selectors.sorted()
    }

    /// Field 22 (`starttime`, clock ticks since boot) of `/proc/<pid>/stat`. The command name
    /// (field 2) may contain spaces and parentheses, so fields are counted after the last `)`.
    func startTime(pid: Int32) throws(LatchError) -> Int64 {
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
