import Foundation
import LatchTesting
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// `latch serve` running in the background for one test: started with arguments, ready once it
/// prints its `latch ready socket=… http=…` line, stopped with SIGTERM when released.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let socket: String
    let http: String
    private let logURL: URL

    /// Starts the server and waits (up to `timeout`) for its ready line, asleep between looks (a
    /// blocked thread would be one of the cooperative pool's few, stalling other tests).
    init(_ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws {
        let stdoutURL = directory.url.appendingPathComponent(".serve-stdout-\(UUID().uuidString)")
        self.logURL = directory.url.appendingPathComponent(".serve-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: self.logURL.path, contents: nil)
        self.process.executableURL = LatchProcess.binary
        self.process.arguments = ["serve"] + arguments
        self.process.currentDirectoryURL = directory.url
        self.process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        self.process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        self.process.standardError = try FileHandle(forWritingTo: self.logURL)
        try ProcessLaunch.start(self.process)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let text = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("latch ready ") }) {
                var fields: [String: String] = [:]
                for part in line.split(separator: " ").dropFirst(2) {
                    let kv = part.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
                }
                self.socket = fields["socket"] ?? ""
                self.http = "http://" + (fields["http"] ?? "")
                return
            }
            guard self.process.isRunning, ContinuousClock.now < deadline else {
                let log = (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? ""
                if self.process.isRunning {
                    self.process.terminate()
                    self.process.waitUntilExit()
                }
                throw ServerFailed(description: "latch serve did not become ready; its log:\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    struct ServerFailed: Error, CustomStringConvertible { let description: String }

    /// What the server logged on standard error so far.
    var log: String { (try? String(contentsOf: self.logURL, encoding: .utf8)) ?? "" }

    /// SIGKILL (a crash: nothing is flushed or closed), then waits for the exit.
    func kill() {
        if self.process.isRunning {
            Glibc.kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    /// SIGTERM, then waits for the exit; returns the status.
    @discardableResult
    func stop() -> Int32 {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        return self.process.terminationStatus
    }

    deinit { self.stop() }
}

/// The interpreter with the pinned reference clients (`.ci/run`'s venv), and the scripts in
/// `Tests/Interop` (see ``InteropScripts``).
enum InteropPython {
    static let repoRoot = InteropScripts.repoRoot

    static let script = Self.script("workload_api_client.py")

    static func script(_ name: String) -> String { InteropScripts.script(name) }

    /// `$LATCH_PYTHON`, else `<repo>/.venv/bin/python`; a missing interpreter fails the test.
    static func interpreter() throws -> String { try InteropScripts.interpreter() }

    /// Runs a client script (default: the Workload API one); returns check name → (ok, detail).
    static func run(
        _ arguments: [String], script: String = Self.script, in directory: TemporaryDirectory
    ) async throws -> [String: (ok: Bool, detail: String)] {
        let result = try await LatchProcess.run([script] + arguments, in: directory, executable: URL(fileURLWithPath: try interpreter()))
        var checks: [String: (ok: Bool, detail: String)] = [:]
        for line in result.stdoutLines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let check = object["check"] as? String, let ok = object["ok"] as? Bool
            else { continue }
            checks[check] = (ok, object["detail"] as? String ?? "")
        }
        if checks.isEmpty {
            throw ServerProcess.ServerFailed(description: "the interop script reported nothing; stderr:\n\(result.stderr)")
        }
        return checks
    }
}
