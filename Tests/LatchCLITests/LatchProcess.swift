import Foundation
import LatchTesting

/// Runs the built `latch` executable as a subprocess, as a user would.
///
/// The binary is found beside the test bundle (SwiftPM builds it because the test target
/// depends on it), or at `$LATCH_BINARY`. Output goes to temporary files, so large outputs
/// never block on a full pipe.
struct LatchProcess {
    /// What one run produced.
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutLines: [Substring] {
            self.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast(self.stdout.hasSuffix("\n") ? 1 : 0)
        }
    }

    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["LATCH_BINARY"], !path.isEmpty { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: "/proc/self/exe"), let exe = Bundle.main.executableURL {
            dir = exe.deletingLastPathComponent()
        }
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("latch")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "latch-binary-not-found")
    }()

    /// Runs `latch arguments…` in `directory`, feeding `stdin` (empty input when nil).
    ///
    /// Async: the wait for the process is a termination handler, not `waitUntilExit`, which
    /// would hold one of the cooperative pool's threads (two on a 2-core machine) for the whole
    /// run and stall every other test's tasks meanwhile.
    static func run(
        _ arguments: [String], in directory: TemporaryDirectory, stdin: String? = nil, executable: URL = Self.binary
    ) async throws -> Result {
        let id = UUID().uuidString
        let outURL = directory.url.appendingPathComponent(".stdout-\(id)")
        let errURL = directory.url.appendingPathComponent(".stderr-\(id)")
        let inURL = directory.url.appendingPathComponent(".stdin-\(id)")
        try Data((stdin ?? "").utf8).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? input.close()
        }

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory.url
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do {
                try ProcessLaunch.start(process)
            } catch {
                process.terminationHandler = nil
                exited.resume(throwing: error)
            }
        }
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8)
        )
    }
}

/// A fresh directory for one test, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("latch-cli-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: self.url) }

    /// Writes `text` to `name` in this directory and returns the name (commands run here).
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: self.url.appendingPathComponent(name))
        return name
    }

    func read(_ name: String) throws -> String {
        try String(contentsOf: self.url.appendingPathComponent(name), encoding: .utf8)
    }
}

/// The repository's `Examples/` folder.
enum Examples {
    static let demo: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Examples/demo")
    }()
}
