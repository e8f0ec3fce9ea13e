import Foundation
import Testing

/// `latch serve` against the reference clients: py-spiffe over the Workload API socket, Python
/// `cryptography` on the X.509-SVID chain, pyjwt on the published JWKS, raw grpcio for the error
/// codes. Entries are managed with `latch entry` against the data directory while the server runs.
@Suite("latch serve with reference clients", .serialized)
struct ServeInteropTests {
    @Test("py-spiffe, cryptography and pyjwt accept what latch serve issues; errors carry the specified codes")
    func referenceClients() async throws {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let socket = directory.url.appendingPathComponent("run/workload.sock").path
        let server = try await ServerProcess(
            ["--data-dir", data, "--trust-domain", "interop.test", "--listen", "127.0.0.1:0", "--workload-api-socket", socket],
            in: directory, environment: ["LATCH_KEK": Self.kek])
        #expect(server.socket == socket)

        // No entry matches this process yet: PERMISSION_DENIED on the SVID calls.
        let denied = try await InteropPython.run(["denied", "--socket", socket], in: directory)
        for name in ["no-entry-jwt", "no-entry-x509"] {
            #expect(denied[name]?.ok == true, "\(name): \(denied[name]?.detail ?? "not reported")")
        }

        // Register this uid while the server runs; it picks the entry up without a restart.
        let spiffeID = "spiffe://interop.test/agents/reference-client"
        let created = try await LatchProcess.run(
            [
                "entry", "create", "--data-dir", data, "--trust-domain", "interop.test", "--spiffe-id", spiffeID,
                "--selector", "unix:uid:\(getuid())", "--attribute", "team=interop", "--x509-svid-ttl", "600",
            ],
            in: directory)
        try #require(created.status == 0, "entry create failed: \(created.stderr)")
        #expect(created.stdout.contains(#""spiffe_id":"\#(spiffeID)""#))
        try await Task.sleep(for: .milliseconds(2500))  // entry_poll_interval is 1 s

        let checks = try await InteropPython.run(
            ["full", "--socket", socket, "--http", server.http, "--spiffe-id", spiffeID, "--trust-domain", "interop.test"],
            in: directory)
        let expected = [
            "x509-svid", "x509-bundles", "x509-chain", "jwt-svid", "validate-jwt-svid", "validate-wrong-audience",
            "validate-claims", "jwt-bundles", "pyjwt-jwks", "pyjwt-wrong-audience", "bundle-endpoint", "missing-header",
            "forged-credentials",
        ]
        for name in expected {
            #expect(checks[name]?.ok == true, "\(name): \(checks[name]?.detail ?? "not reported")\nserver log:\n\(server.log)")
        }
        #expect(server.stop() == 0, "latch serve should exit 0 on SIGTERM")
        #expect(!server.log.contains(Self.kek), "the KEK must never be logged")
    }

    @Test("a bad configuration file exits 1 naming the key, and starts nothing")
    func badConfiguration() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("latch.yaml", "trust_domain: interop.test\nlisten_adress: 127.0.0.1:0\n")
        let result = try await LatchProcess.run(["serve", "--config", "latch.yaml", "--data-dir", "data"], in: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains("listen_adress"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("data").path))
    }

    /// A fixed test KEK (base64 of 32 bytes), passed through the environment.
    static let kek = Data((0..<32).map { UInt8($0 &* 7 &+ 3) }).base64EncodedString()
}

/// Attestation of other users' processes: the server (root) reads each caller's uid from the
/// kernel, so `latch api` run as `nobody` gets nobody's entry and an unregistered uid gets
/// PERMISSION_DENIED. Needs root to switch users (CI runs as root).
@Suite("Workload API callers of other uids", .serialized)
struct ServeOtherUIDTests {
    @Test("each uid gets its own entry, an unregistered uid PERMISSION_DENIED", .enabled(if: getuid() == 0, "switching uid needs root"))
    func otherUIDs() async throws {
        let directory = try TemporaryDirectory()
        // Everything the other uids touch must be reachable by them: a world-readable copy of the
        // binary and the socket under the (0755) temporary directory.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.url.path)
        let binary = directory.url.appendingPathComponent("latch").path
        try FileManager.default.copyItem(atPath: LatchProcess.binary.path, toPath: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary)
        let data = directory.url.appendingPathComponent("data").path
        let server = try await ServerProcess(
            ["--data-dir", data, "--listen", "127.0.0.1:0"], in: directory, environment: ["LATCH_KEK": ServeInteropTests.kek])
        for (uid, name) in [(65534, "nobody"), (0, "root")] {
            let created = try await LatchProcess.run(
                ["entry", "create", "--data-dir", data, "--spiffe-id", "spiffe://latch.local/users/\(name)", "--selector", "unix:uid:\(uid)"],
                in: directory)
            try #require(created.status == 0, "\(created.stderr)")
        }
        try await Task.sleep(for: .milliseconds(2500))

        func fetch(asUID uid: Int) async throws -> LatchProcess.Result {
            try await LatchProcess.run(
                ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", binary, "api", "fetch-jwt", "--socket", server.socket, "--audience", "a"],
                in: directory, executable: URL(fileURLWithPath: "/usr/bin/setpriv"))
        }
        let nobody = try await fetch(asUID: 65534)
        #expect(nobody.status == 0, "\(nobody.stderr)")
        #expect(nobody.stdout.contains(#""spiffe_id":"spiffe://latch.local/users/nobody""#))
        #expect(!nobody.stdout.contains("users/root"))
        let stranger = try await fetch(asUID: 4321)
        #expect(stranger.status == 1)
        #expect(stranger.stderr.contains("PERMISSION_DENIED"), "\(stranger.stderr)")
        let root = try await LatchProcess.run(["api", "fetch-x509", "--socket", server.socket, "--write", "out"], in: directory)
        #expect(root.stdout.contains(#""spiffe_id":"spiffe://latch.local/users/root""#), "\(root.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("out/svid.0.key").path))
        #expect(server.stop() == 0)
    }
}
