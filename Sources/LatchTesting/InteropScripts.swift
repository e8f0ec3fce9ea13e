public import Foundation

/// The reference Python tools in `Tests/Interop`, for tests that run them.
public enum InteropScripts {
    /// The repository's root (this file is `Sources/LatchTesting/InteropScripts.swift`).
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The path of a script in `Tests/Interop`.
    public static func script(_ name: String) -> String { Self.repoRoot.appendingPathComponent("Tests/Interop/" + name).path }

    /// The demo MCP server the gateway tests forward to.
    public static var mcpUpstream: String { Self.script("mcp_upstream.py") }

    /// `$LATCH_PYTHON`, else `<repo>/.venv/bin/python` (what `.ci/run` creates); a missing
    /// interpreter throws, so the test fails rather than skips.
    public static func interpreter() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["LATCH_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Missing(description: "LATCH_PYTHON=\(explicit) is not executable")
            }
            return explicit
        }
        let venv = Self.repoRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw Missing(description: "no Python with the reference tools: set LATCH_PYTHON or run .ci/run (it creates .venv)")
        }
        return venv
    }

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }
}

/// `Tests/Interop/mcp_upstream.py` serving Streamable HTTP on 127.0.0.1 (a free port), stopped
/// (killed) by ``stop()`` or when released.
public final class HTTPUpstreamServer: @unchecked Sendable {
    public let port: Int
    public let process: Process
    private let errorLog: URL

    /// What the server wrote to stderr so far.
    public var log: String { (try? String(contentsOf: self.errorLog, encoding: .utf8)) ?? "" }

    /// The MCP endpoint.
    public var url: String { "http://127.0.0.1:\(self.port)/mcp" }

    /// Starts the server with extra options (`--stateless`, `--require-token VAR`, `--port N`, ...)
    /// and an environment of its own (nothing inherited); waits for it to listen on a thread of
    /// its own, not on the test's.
    public static func start(options: [String] = [], environment: [String: String] = [:]) async throws -> HTTPUpstreamServer {
        try await Self.start(script: InteropScripts.mcpUpstream, arguments: ["--transport", "http"] + options, environment: environment)
    }

    /// Starts another script of `Tests/Interop` that serves HTTP the same way (`--port 0` unless
    /// the arguments name a port; the first stdout line is `listening on <port>`), such as
    /// `http_api.py`.
    public static func start(script: String, arguments: [String], environment: [String: String] = [:]) async throws -> HTTPUpstreamServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try HTTPUpstreamServer(script: script, arguments: arguments, environment: environment) })
            }.start()
        }
    }

    private init(script: String, arguments: [String], environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try InteropScripts.interpreter())
        process.arguments = [script] + arguments + (arguments.contains("--port") ? [] : ["--port", "0"])
        var environment = environment
        environment["PATH"] = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"]
        process.environment = environment
        let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-upstream-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorLog)
        process.standardInput = FileHandle.nullDevice
        let output = try ProcessLaunch.start(process) {
            let output = Pipe()
            process.standardOutput = output
            return output
        }
        self.process = process
        self.errorLog = errorLog
        // The first line is `listening on <port>`. Read byte by byte with read(2), retried when a
        // signal (a child of another test exiting) interrupts it.
        var line: [UInt8] = []
        let descriptor = output.fileHandleForReading.fileDescriptor
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1, byte != 0x0A else { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on "), let port = Int(text.dropFirst("listening on ".count)) else {
            process.terminate()
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: errorLog)
            throw InteropScripts.Missing(description: "\(URL(fileURLWithPath: script).lastPathComponent) did not start: \(text)\n\(stderr)")
        }
        self.port = port
    }

    /// Kills the server and waits for it to exit.
    public func stop() {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
        }
        self.process.waitUntilExit()
    }

    deinit {
        self.stop()
        try? FileManager.default.removeItem(at: self.errorLog)
    }
}

extension InteropScripts {
    /// Runs `Tests/Interop/<script>` with ``interpreter()``, feeding `input` on stdin; returns its
    /// exit status and stdout.
    public static func run(_ script: String, _ arguments: [String] = [], input: [UInt8] = []) throws -> (status: Int32, output: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.interpreter())
        process.arguments = [Self.script(script)] + arguments
        let (stdin, stdout) = try ProcessLaunch.start(process) {
            let pipes = (Pipe(), Pipe())
            process.standardInput = pipes.0
            process.standardOutput = pipes.1
            return pipes
        }
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Array(data))
    }
}
