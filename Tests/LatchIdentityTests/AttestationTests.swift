import Crypto
import Foundation
import LatchCore
import LatchTesting
import Synchronization
import Testing

@testable import LatchIdentity

/// A `/proc` whose start time changes after the first read: a PID reused mid-attestation.
final class ReusedPIDFileSystem: ProcessFileSystem, Sendable {
    let reads = Mutex(0)
    func readFile(_ path: String, limit: Int) throws(LatchError) -> [UInt8] {
        let n = self.reads.withLock {
            $0 += 1
            return $0
        }
        return Array(UnixAttestorTests.statLine(pid: 42, comm: "agent", start: n == 1 ? 1000 : 2000).utf8)
    }
    func readLink(_ path: String) throws(LatchError) -> String { "/usr/bin/agent" }
    func sha256(ofFile path: String, limit: Int64) throws(LatchError) -> [UInt8]? { [UInt8](repeating: 1, count: 32) }
}

@Suite("UnixAttestor")
struct UnixAttestorTests {
    static func statLine(pid: Int32, comm: String, start: Int64) -> String {
        // Fields 3…21 then starttime (22) and a few more.
        "\(pid) (\(comm)) S 1 1 1 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 \(start) 1000000 200 18446744073709551615\n"
    }

    /// A fake root with `proc/<pid>/stat` and `proc/<pid>/exe` → an executable file.
    func fakeRoot(pid: Int32, comm: String, start: Int64, exe: [UInt8]) throws -> (root: String, exePath: String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("latch-proc-\(UUID().uuidString)").path
        let procDir = root + "/proc/\(pid)"
        try FileManager.default.createDirectory(atPath: procDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: procDir + "/stat", contents: Data(Self.statLine(pid: pid, comm: comm, start: start).utf8))
        let exePath = root + "/bin/agent"
        FileManager.default.createFile(atPath: exePath, contents: Data(exe))
        try FileManager.default.createSymbolicLink(atPath: procDir + "/exe", withDestinationPath: exePath)
        return (root, exePath)
    }

    @Test("peer credentials and /proc give uid, gid, pid, path and sha256 selectors")
    func fakeProc() throws {
        let exe = Array("#!/bin/agent\n".utf8)
        let (root, exePath) = try self.fakeRoot(pid: 4242, comm: "my (odd) agent", start: 987654, exe: exe)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let selectors = try UnixAttestor(fileSystem: HostProcessFileSystem(root: root))
            .attest(PeerCredentials(pid: 4242, uid: 1000, gid: 100))
        #expect(
            selectors.map(\.description) == [
                "unix:gid:100", "unix:path:\(exePath)", "unix:pid:4242",
                "unix:sha256:\(hexString(SHA256.hash(data: exe)))", "unix:uid:1000",
            ])
    }

    @Test("a process whose start time changes while it is hashed is refused (PID reuse)")
    func pidReuse() {
        #expect(throws: LatchError(.processChanged, "")) {
            try UnixAttestor(fileSystem: ReusedPIDFileSystem()).attest(PeerCredentials(pid: 42, uid: 0, gid: 0))
        }
    }

    @Test("a process that is gone is refused")
    func gone() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("latch-proc-\(UUID().uuidString)").path
        #expect(throws: LatchError(.processChanged, "")) {
            try UnixAttestor(fileSystem: HostProcessFileSystem(root: root)).attest(PeerCredentials(pid: 7, uid: 0, gid: 0))
        }
    }

    @Test("an unreadable executable omits path and hash, or fails when required")
    func unreadableExecutable() throws {
        let (root, exePath) = try self.fakeRoot(pid: 9, comm: "x", start: 5, exe: [1])
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: exePath)
        let peer = PeerCredentials(pid: 9, uid: 1, gid: 2)
        #expect(
            try UnixAttestor(fileSystem: HostProcessFileSystem(root: root)).attest(peer).map(\.description)
                == ["unix:gid:2", "unix:pid:9", "unix:uid:1"])
        #expect(throws: LatchError(.io, "")) {
            try UnixAttestor(fileSystem: HostProcessFileSystem(root: root), requireExecutable: true).attest(peer)
        }
    }

    @Test("a pid whose process is not the one that connected is refused (connection outlived its process)")
    func connectedProcessGone() throws {
        let (root, _) = try self.fakeRoot(pid: 11, comm: "x", start: 500, exe: [1])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let attestor = UnixAttestor(fileSystem: HostProcessFileSystem(root: root))
        #expect(try attestor.attest(PeerCredentials(pid: 11, uid: 1, gid: 1, startTime: 500)).count == 5)
        #expect(throws: LatchError(.processChanged, "")) {
            try attestor.attest(PeerCredentials(pid: 11, uid: 1, gid: 1, startTime: 499))
        }
    }

    @Test("an executable over the size limit is not hashed: no sha256 selector, or an error when required")
    func oversizedExecutable() throws {
        let (root, exePath) = try self.fakeRoot(pid: 12, comm: "x", start: 5, exe: [UInt8](repeating: 7, count: 4096))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let peer = PeerCredentials(pid: 12, uid: 1, gid: 2)
        #expect(
            try UnixAttestor(fileSystem: HostProcessFileSystem(root: root), maxExecutableSize: 4095).attest(peer).map(\.description)
                == ["unix:gid:2", "unix:path:\(exePath)", "unix:pid:12", "unix:uid:1"])
        #expect(throws: LatchError(.invalidInput, "")) {
            try UnixAttestor(fileSystem: HostProcessFileSystem(root: root), requireExecutable: true, maxExecutableSize: 4095).attest(peer)
        }
        #expect(try UnixAttestor(fileSystem: HostProcessFileSystem(root: root), maxExecutableSize: 4096).attest(peer).count == 5)
    }

    @Test("the digest cache keeps digests of settled files only, and a rewritten file is hashed again")
    func digestCache() throws {
        let (root, exePath) = try self.fakeRoot(pid: 13, comm: "x", start: 5, exe: Array("one".utf8))
        defer { try? FileManager.default.removeItem(atPath: root) }
        let settled = root + "/settled"
        try Data("settled".utf8).write(to: URL(fileURLWithPath: settled))
        let cache = FileDigestCache()
        let fs = HostProcessFileSystem(root: root, digestCache: cache)
        // Just written: hashed correctly but not kept (its change time is under 2 s old).
        #expect(try fs.sha256(ofFile: "/proc/13/exe", limit: 1 << 20) == Array(SHA256.hash(data: Array("one".utf8))))
        #expect(cache.count == 0)
        try Data("two".utf8).write(to: URL(fileURLWithPath: exePath))
        #expect(try fs.sha256(ofFile: "/proc/13/exe", limit: 1 << 20) == Array(SHA256.hash(data: Array("two".utf8))))
        #expect(cache.count == 0)
        // Once a file's last change is 2 s old it is kept, and served from the cache after. (Waiting
        // for a file of our own: the test binary may have been linked a moment before it ran.)
        var info = stat()
        try #require(stat(settled, &info) == 0)
        let age = Date().timeIntervalSince1970 - (Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9)
        if age < 2.2 { Thread.sleep(forTimeInterval: 2.2 - age) }
        let digest = try #require(try fs.sha256(ofFile: "/settled", limit: 1 << 20))
        #expect(digest == Array(SHA256.hash(data: Array("settled".utf8))))
        #expect(cache.count == 1)
        #expect(try fs.sha256(ofFile: "/settled", limit: 1 << 20) == digest)
        #expect(cache.count == 1)
    }

    @Test("the real /proc: this test process is attested with its own executable's hash")
    func realProc() throws {
        let peer = PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid())
        let selectors = try UnixAttestor(requireExecutable: true).attest(peer)
        let path = try #require(selectors.first { $0.value.hasPrefix("path:") }).value.dropFirst(5)
        let digest = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: String(path))))
        #expect(selectors.contains(Selector(type: "unix", value: "sha256:\(hexString(digest))")))
        #expect(selectors.contains(Selector(type: "unix", value: "uid:\(getuid())")))
    }
}

@Suite("JoinTokenAuthority")
struct JoinTokenTests {
    @Test("a token is stored hashed, consumed once, and yields its selector")
    func oneTime() async throws {
        let store = InMemoryIdentityStore()
        let authority = JoinTokenAuthority(repository: store)
        let token = try await authority.create(selectorValue: "node-1", ttl: 60_000, now: 0)
        #expect("\(token)" == "<redacted>")
        #expect(token.unredacted.hasPrefix("latchjt_") && token.unredacted.count == 8 + 43)
        #expect(try await authority.consume(token, now: 1000) == Selector(type: "join_token", value: "node-1"))
        await #expect(throws: LatchError(.invalidJoinToken, "")) { try await authority.consume(token, now: 1000) }
    }

    @Test("unknown, malformed and expired tokens are refused alike")
    func refused() async throws {
        let store = InMemoryIdentityStore()
        let authority = JoinTokenAuthority(repository: store)
        let token = try await authority.create(selectorValue: "n", ttl: 1000, now: 0)
        await #expect(throws: LatchError(.invalidJoinToken, "")) { try await authority.consume(Redacted("latchjt_nope"), now: 0) }
        await #expect(throws: LatchError(.invalidJoinToken, "")) { try await authority.consume(Redacted("garbage"), now: 0) }
        await #expect(throws: LatchError(.invalidJoinToken, "")) { try await authority.consume(token, now: 1000) }
    }

    @Test("two concurrent consumers: exactly one wins")
    func concurrent() async throws {
        let store = InMemoryIdentityStore()
        let authority = JoinTokenAuthority(repository: store)
        let token = try await authority.create(selectorValue: "n", ttl: 60_000, now: 0)
        let wins = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 { group.addTask { (try? await authority.consume(token, now: 1)) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }
}
