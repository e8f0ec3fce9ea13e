import Dispatch
import Foundation
import LatchCore
import LatchIdentity
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One spawned stdio MCP server: newline-delimited JSON-RPC on its stdin and stdout, its stderr
/// drained into the log. Requests are multiplexed by id over the one pipe.
///
/// Three threads serve it: one reads stdout, one reads stderr, one waits for the process to
/// exit; writes go through a serial queue. Whatever ends the connection (the process exits, it
/// sends an oversized message, it stops reading, Latch shuts it down) fails every pending
/// request at once with `.unavailable`.
final class StdioMCPConnection: Sendable {
    typealias Outcome = Result<JSONValue, MCPUpstreamError>

    let upstream: String
    let process: ChildProcess
    private let maxMessageBytes: Int
    private let logger: Logger
    private let elapsed: @Sendable () -> Duration
    private let writer: DispatchQueue
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var nextID: Int64 = 1
        var pending: [Int64: CheckedContinuation<Outcome, Never>] = [:]
        /// Why the connection ended, once it has.
        var closed: MCPUpstreamError?
        /// When it ended (on the upstream's monotonic clock).
        var closedAt: Duration?
        /// The process has exited; its pid stays reserved until it is reaped, after this is set.
        var exited = false
        /// How it exited, once reaped.
        var exitDescription: String?
        var inputClosed = false
    }

    private init(upstream: String, process: ChildProcess, maxMessageBytes: Int, logger: Logger, elapsed: @escaping @Sendable () -> Duration) {
        self.upstream = upstream
        self.process = process
        self.maxMessageBytes = maxMessageBytes
        self.logger = logger
        self.elapsed = elapsed
        self.writer = DispatchQueue(label: "latch.upstream.\(upstream).stdin")
    }

    /// Spawns the process and starts serving its pipes.
    static func start(
        upstream: String, executable: String, arguments: [String], environment: [String: String],
        maxMessageBytes: Int, logger: Logger, elapsed: @escaping @Sendable () -> Duration
    ) throws(MCPUpstreamError) -> StdioMCPConnection {
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                executable: executable, arguments: arguments, environment: environment)
        } catch {
            throw MCPUpstreamError(.unavailable, "upstream \(upstream) could not be started: \(error.description)")
        }
        let connection = StdioMCPConnection(
            upstream: upstream, process: process, maxMessageBytes: maxMessageBytes, logger: logger, elapsed: elapsed)
        Self.thread("stdout") { connection.readMessages() }
        Self.thread("stderr") { connection.drainStandardError() }
        Self.thread("wait") { connection.waitForExit() }
        return connection
    }

    private static func thread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = "latch-upstream-\(name)"
        thread.start()
    }

    // MARK: State

    /// Whether requests can still be sent.
    var isOpen: Bool { self.state.withLock { $0.closed == nil } }

    /// When the connection ended, if it has.
    var closedAt: Duration? { self.state.withLock { $0.closedAt } }

    /// Whether the process has exited and been reaped (its pid is free).
    var isReaped: Bool { self.state.withLock { $0.exitDescription != nil } }

    /// Ends the connection: every pending request fails with `error`, nothing more is sent, and
    /// `signal` (if any) goes to the process group. The first call wins; later calls do nothing.
    func close(_ error: MCPUpstreamError, kill signal: Int32? = nil) {
        let waiting: [CheckedContinuation<Outcome, Never>] = self.state.withLock { state in
            guard state.closed == nil else { return [] }
            if let signal, !state.exited { self.process.signalGroup(signal) }
            state.closed = error
            state.closedAt = self.elapsed()
            let waiting = Array(state.pending.values)
            state.pending.removeAll()
            return waiting
        }
        for continuation in waiting { continuation.resume(returning: .failure(error)) }
        self.closeInput()
    }

    /// Signals the process group unless the process has already exited (its pid may be reused
    /// once reaped, so signals are only sent before that).
    func signal(_ signal: Int32) {
        self.state.withLock { state in
            if !state.exited { self.process.signalGroup(signal) }
        }
    }

    /// Closes the process's stdin (after whatever is queued to it): a stdio MCP server exits on EOF.
    func closeInput() {
        self.writer.async {
            let close = self.state.withLock { state -> Bool in
                defer { state.inputClosed = true }
                return !state.inputClosed
            }
            if close { closeDescriptor(self.process.stdin) }
        }
    }

    // MARK: Requests

    /// Sends a request and waits for its response, at most `timeout`; on timeout or task
    /// cancellation the upstream is told with `notifications/cancelled`.
    func request(method: String, params: JSONValue?, timeout: Duration, clock: any Clock<Duration>) async -> Outcome {
        let allocated: Result<Int64, MCPUpstreamError> = self.state.withLock { state in
            if let closed = state.closed { return .failure(closed) }
            defer { state.nextID += 1 }
            return .success(state.nextID)
        }
        let id: Int64
        switch allocated {
        case .failure(let error): return .failure(error)
        case .success(let allocatedID): id = allocatedID
        }
        let message = MCPClientMessages.request(id: id, method: method, params: params)
        guard message.count < self.maxMessageBytes else {
            return .failure(MCPUpstreamError(.unavailable, "request to upstream \(self.upstream) exceeds \(self.maxMessageBytes) bytes"))
        }
        let timer = Task {
            do { try await clock.sleep(for: timeout) } catch { return }
            self.abandon(id, MCPUpstreamError(.unavailable, "upstream \(self.upstream) did not answer \(method) within \(timeout)"))
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                let refused: MCPUpstreamError? = self.state.withLock { state in
                    if let closed = state.closed { return closed }
                    state.pending[id] = continuation
                    return nil
                }
                if let refused {
                    continuation.resume(returning: .failure(refused))
                    return
                }
                self.send(message)
                if Task.isCancelled { self.abandon(id, Self.cancelled(self.upstream)) }
            }
        } onCancel: {
            self.abandon(id, Self.cancelled(self.upstream))
        }
    }

    /// Sends a notification.
    func notify(method: String, params: JSONValue?) {
        self.send(MCPClientMessages.notification(method: method, params: params))
    }

    private static func cancelled(_ upstream: String) -> MCPUpstreamError {
        MCPUpstreamError(.unavailable, "call to upstream \(upstream) was cancelled")
    }

    /// Stops waiting for a request: it fails with `error`, and the upstream is told to stop.
    private func abandon(_ id: Int64, _ error: MCPUpstreamError) {
        let continuation = self.state.withLock { $0.pending.removeValue(forKey: id) }
        guard let continuation else { return }
        continuation.resume(returning: .failure(error))
        self.send(MCPClientMessages.cancelled(id: id, reason: error.reason))
    }

    /// Queues one message (a newline is appended) for the process's stdin.
    private func send(_ message: [UInt8]) {
        self.writer.async {
            let fd: Int32? = self.state.withLock { $0.inputClosed || $0.closed != nil ? nil : self.process.stdin }
            guard let fd else { return }
            var bytes = message
            bytes.append(0x0A)
            if !Self.writeAll(fd, bytes) {
                self.logger.notice("upstream stopped reading its input")
                self.close(MCPUpstreamError(.unavailable, "upstream \(self.upstream) stopped reading its input"), kill: SIGKILL)
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    // MARK: Reading

    /// The stdout loop: splits lines, hands each to `handle`, enforces the size limit.
    private func readMessages() {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let limit = self.maxMessageBytes
        var oversized = false
        reading: while true {
            let count = chunk.withUnsafeMutableBytes { read(self.process.stdout, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0 { break }
            var start = 0
            while let newline = chunk[start..<count].firstIndex(of: 0x0A) {
                if line.count + (newline - start) > limit {
                    oversized = true
                    break reading
                }
                if line.isEmpty {
                    self.handle(line: chunk[start..<newline])
                } else {
                    line.append(contentsOf: chunk[start..<newline])
                    self.handle(line: line[...])
                    line.removeAll(keepingCapacity: true)
                }
                start = newline + 1
            }
            line.append(contentsOf: chunk[start..<count])
            if line.count > limit {
                oversized = true
                break reading
            }
        }
        if oversized {
            self.logger.notice("upstream sent an oversized message")
            self.close(MCPUpstreamError(.unavailable, "upstream \(self.upstream) sent a message over \(limit) bytes"), kill: SIGKILL)
        }
        closeDescriptor(self.process.stdout)
        // Output ends when the process exits: give the exit a moment to be seen, for the message.
        for _ in 0..<20 where !self.isReaped { usleep(5000) }
        let how = self.state.withLock { $0.exitDescription }.map { " (\($0))" } ?? ""
        self.close(MCPUpstreamError(.unavailable, "upstream \(self.upstream) exited\(how)"), kill: SIGKILL)
    }

    private func handle(line: ArraySlice<UInt8>) {
        guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { return }
        guard let value = JSONValue(parsing: line), let message = JSONRPCMessage(classifying: value) else {
            self.logger.notice(
                "upstream wrote a line that is not a JSON-RPC message",
                metadata: ["bytes": "\(line.count)"])
            return
        }
        switch message {
        case .response:
            guard let id = message.responseID, let continuation = self.state.withLock({ $0.pending.removeValue(forKey: id) }) else {
                self.logger.debug("upstream answered a request nobody waits for")
                return
            }
            continuation.resume(returning: MCPClientMessages.outcome(of: message, upstream: self.upstream))
        case .request(let id, let method, _):
            if method == "ping" {
                self.send(MCPClientMessages.response(id: id, result: .object([:])))
            } else {
                self.logger.debug(
                    "upstream sent a request Latch does not serve", metadata: ["method": "\(method)"])
                self.send(MCPClientMessages.errorResponse(id: id, code: -32601, message: "Latch does not serve \(method)"))
            }
        case .notification(let method, _):
            self.logger.debug("upstream notification", metadata: ["method": "\(method)"])
        }
    }

    /// The stderr loop: each line (cut at 2 KiB) goes to the debug log.
    private func drainStandardError() {
        var line: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let keep = 2048
        while true {
            let count = chunk.withUnsafeMutableBytes { read(self.process.stderr, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            if count == 0 { break }
            for byte in chunk[0..<count] {
                if byte == 0x0A {
                    self.logStandardError(line)
                    line.removeAll(keepingCapacity: true)
                } else if line.count < keep {
                    line.append(byte)
                }
            }
        }
        if !line.isEmpty { self.logStandardError(line) }
        closeDescriptor(self.process.stderr)
    }

    private func logStandardError(_ line: [UInt8]) {
        guard !line.isEmpty else { return }
        self.logger.debug(
            "upstream stderr", metadata: ["line": "\(String(decoding: line, as: UTF8.self))"])
    }

    /// The exit loop: notes the exit (before reaping, so no signal can reach a reused pid), then reaps.
    private func waitForExit() {
        self.process.waitUntilExited()
        self.state.withLock { $0.exited = true }
        let how = self.process.reap()
        self.state.withLock { $0.exitDescription = how }
        self.logger.notice("upstream exited", metadata: ["how": "\(how)"])
        // A grandchild may still hold stdout open: the process is gone, so the connection is too.
        self.close(MCPUpstreamError(.unavailable, "upstream \(self.upstream) exited (\(how))"))
    }
}

/// `close(2)`, out of reach of the connection's own `close`.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
