public import LatchCore
public import LatchIdentity
public import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An upstream MCP server that Latch spawns and talks to over stdio (newline-delimited JSON-RPC
/// 2.0 on the process's stdin and stdout, MCP 2025-11-25).
///
/// The process is started on first use (`initialize`, then `notifications/initialized`), and
/// again on the first use after it died, no sooner than the restart backoff allows. Concurrent
/// calls share the one process, matched to their answers by request id.
///
/// - Important: the process gets only the configured environment (plus `PATH` and `HOME` from
///   Latch's own when the configuration has none): that is where an upstream's credential goes,
///   and neither it nor any other value of the environment is ever logged. Starting an upstream
///   makes Latch ignore `SIGPIPE` (a dead upstream's pipe must fail a write, not end Latch).
public final class StdioMCPUpstream: MCPUpstream {
    /// How to run one stdio upstream.
    public struct Configuration: Sendable {
        /// The upstream's name (the namespace of its tools).
        public var name: String
        /// The program: a path, or a name looked up in the environment's `PATH`.
        public var command: String
        public var arguments: [String]
        /// The process's whole environment (values are often credentials). `PATH` and `HOME` are
        /// taken from Latch's environment when absent here.
        public var environment: [String: Redacted<String>]
        /// How long a request may wait for its answer. Default 30 s.
        public var requestTimeout: Duration
        /// How long a start may wait for the answer to `initialize`. Default 30 s.
        public var startTimeout: Duration
        /// The largest message, in bytes, either way. Default 16 MiB.
        public var maxMessageBytes: Int
        /// The least time between two starts after a crash; doubled for each crash in a row.
        /// Default 1 s.
        public var restartInterval: Duration
        /// The most time between two starts after crashes in a row. Default 30 s.
        public var maxRestartInterval: Duration
        /// How long `shutdown()` waits after closing stdin before SIGTERM, and after SIGTERM before
        /// SIGKILL. Default 2 s.
        public var shutdownGrace: Duration

        public init(
            name: String, command: String, arguments: [String] = [], environment: [String: Redacted<String>] = [:],
            requestTimeout: Duration = .seconds(30), startTimeout: Duration = .seconds(30), maxMessageBytes: Int = 16 << 20,
            restartInterval: Duration = .seconds(1), maxRestartInterval: Duration = .seconds(30), shutdownGrace: Duration = .seconds(2)
        ) {
            self.name = name
            self.command = command
            self.arguments = arguments
            self.environment = environment
            self.requestTimeout = requestTimeout
            self.startTimeout = startTimeout
            self.maxMessageBytes = maxMessageBytes
            self.restartInterval = restartInterval
            self.maxRestartInterval = maxRestartInterval
            self.shutdownGrace = shutdownGrace
        }
    }

    public var name: String { self.configuration.name }
    private let configuration: Configuration
    private let supervisor: Supervisor

    /// - Parameters:
    ///   - logger: gets the upstream's lifecycle (notice) and its stderr lines (debug).
    ///   - clock: times requests, restarts and shutdown.
    public init(configuration: Configuration, logger: Logger, clock: any Clock<Duration> = ContinuousClock()) {
        self.configuration = configuration
        self.supervisor = Supervisor(configuration: configuration, logger: logger, clock: clock)
    }

    public func listTools() async throws(MCPUpstreamError) -> [JSONValue] {
        try await MCPClientMessages.listAllTools(upstream: self.name) { (params) throws(MCPUpstreamError) in
            try await self.supervisor.request(method: "tools/list", params: params).get()
        }
    }

    public func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue {
        let params = MCPClientMessages.callToolParams(name: name, arguments: arguments, meta: meta)
        return try await self.supervisor.request(method: "tools/call", params: params).get()
    }

    /// Closes the process's stdin, then SIGTERM, then SIGKILL (each after `shutdownGrace`), and
    /// waits until it is gone. Pending calls fail; later calls fail at once.
    public func shutdown() async {
        await self.supervisor.shutdown()
    }

    /// The running process's ID, if one runs.
    public var processID: Int32? {
        get async { await self.supervisor.processID }
    }
}

extension StdioMCPUpstream {
    /// Owns the process: starts it when a request needs it, restarts it after it died (as the
    /// state machine allows), stops it on shutdown.
    actor Supervisor {
        private let configuration: Configuration
        private let logger: Logger
        private let clock: any Clock<Duration>
        private let elapsed: @Sendable () -> Duration
        private var machine: StateMachine
        private var connection: StdioMCPConnection?
        private var starting: Task<Result<StdioMCPConnection, MCPUpstreamError>, Never>?

        init(configuration: Configuration, logger: Logger, clock: any Clock<Duration>) {
            self.configuration = configuration
            var logger = logger
            logger[metadataKey: LogKey.upstreamName] = "\(configuration.name)"
            self.logger = logger
            self.clock = clock
            self.elapsed = Self.stopwatch(clock)
            self.machine = StateMachine(
                minimumInterval: configuration.restartInterval, maximumInterval: configuration.maxRestartInterval,
                stableAfter: configuration.restartInterval * 10)
        }

        private static func stopwatch<C: Clock<Duration>>(_ clock: C) -> @Sendable () -> Duration {
            let origin = clock.now
            return { origin.duration(to: clock.now) }
        }

        var processID: Int32? {
            guard let connection = self.connection, connection.isOpen else { return nil }
            return connection.process.pid
        }

        /// Sends one request on the running process (starting it first if needed).
        func request(method: String, params: JSONValue?) async -> Result<JSONValue, MCPUpstreamError> {
            let connection: StdioMCPConnection
            switch await self.connect() {
            case .failure(let error): return .failure(error)
            case .success(let running): connection = running
            }
            return await connection.request(method: method, params: params, timeout: self.configuration.requestTimeout, clock: self.clock)
        }

        /// The running, initialized process: the current one, the one being started, or a new one.
        private func connect() async -> Result<StdioMCPConnection, MCPUpstreamError> {
            if let connection = self.connection {
                if connection.isOpen { return .success(connection) }
                self.connection = nil
                self.machine.exited(now: connection.closedAt ?? self.elapsed())
            }
            if let starting = self.starting { return await starting.value }
            let delay: Duration?
            switch self.machine.connect(now: self.elapsed()) {
            case .refuse:
                return .failure(self.shutDownError)
            case .spawn:
                delay = nil
            case .wait(let wait):
                // Not started yet: the decision is taken again when the wait is over.
                guard wait <= self.configuration.requestTimeout else {
                    return .failure(
                        MCPUpstreamError(
                            .unavailable,
                            "upstream \(self.configuration.name) keeps exiting (\(self.machine.consecutiveFailures) times in a row); "
                                + "next start in \(wait)"))
                }
                delay = wait
            }
            let task = Task { await self.start(after: delay) }
            self.starting = task
            return await task.value
        }

        private var shutDownError: MCPUpstreamError {
            MCPUpstreamError(.unavailable, "upstream \(self.configuration.name) was shut down")
        }

        /// Starts the process (after `delay`, when the backoff asked for one) and initializes it.
        /// The state machine is already `starting` when there is no delay.
        private func start(after delay: Duration?) async -> Result<StdioMCPConnection, MCPUpstreamError> {
            defer { self.starting = nil }
            if let delay {
                try? await self.clock.sleep(for: delay)
                switch self.machine.connect(now: self.elapsed()) {
                case .refuse: return .failure(self.shutDownError)
                case .wait: return .failure(MCPUpstreamError(.unavailable, "upstream \(self.configuration.name) is restarting"))
                case .spawn: break
                }
            }
            let connection: StdioMCPConnection
            do {
                connection = try StdioMCPConnection.start(
                    upstream: self.configuration.name, executable: self.configuration.command, arguments: self.configuration.arguments,
                    environment: self.processEnvironment(),
                    maxMessageBytes: self.configuration.maxMessageBytes, logger: self.logger, elapsed: self.elapsed)
            } catch {
                self.logger.notice("upstream could not be started", metadata: ["reason": "\(error.reason)"])
                self.machine.startFailed(now: self.elapsed())
                return .failure(error)
            }
            self.logger.notice("upstream started", metadata: ["pid": "\(connection.process.pid)"])
            let initialized = await connection.request(
                method: "initialize", params: MCPClientMessages.initializeParams, timeout: self.configuration.startTimeout,
                clock: self.clock)
            let outcome = initialized.flatMap { MCPClientMessages.negotiatedVersion($0, upstream: self.configuration.name) }
            if case .failure(let error) = outcome {
                connection.close(
                    MCPUpstreamError(.unavailable, "upstream \(self.configuration.name) did not initialize: \(error.reason)"), kill: SIGKILL)
                self.machine.startFailed(now: self.elapsed())
                return .failure(error)
            }
            if case .shutDown = self.machine.state {
                connection.close(self.shutDownError, kill: SIGKILL)
                return .failure(self.shutDownError)
            }
            connection.notify(method: "notifications/initialized", params: nil)
            self.machine.started(now: self.elapsed())
            self.connection = connection
            return .success(connection)
        }

        /// The configured environment, plus `PATH` and `HOME` from Latch's own when absent.
        private func processEnvironment() -> [String: String] {
            var environment = self.configuration.environment.mapValues(\.unredacted)
            for key in ["PATH", "HOME"] where environment[key] == nil {
                if let value = getenv(key) { environment[key] = String(cString: value) }
            }
            return environment
        }

        func shutdown() async {
            self.machine.shutdown()
            if let starting = self.starting {
                starting.cancel()
                _ = await starting.value
            }
            guard let connection = self.connection else { return }
            self.connection = nil
            connection.close(self.shutDownError)
            let grace = self.configuration.shutdownGrace
            if await self.waitForExit(connection, within: grace) { return }
            connection.signal(SIGTERM)
            if await self.waitForExit(connection, within: grace) { return }
            self.logger.notice("upstream ignored SIGTERM; killing it")
            connection.signal(SIGKILL)
            _ = await self.waitForExit(connection, within: .seconds(3600))
        }

        private func waitForExit(_ connection: StdioMCPConnection, within limit: Duration) async -> Bool {
            let step = Duration.milliseconds(10)
            var waited = Duration.zero
            while !connection.isReaped {
                if waited >= limit { return false }
                try? await self.clock.sleep(for: step)
                waited += step
            }
            return true
        }
    }
}
