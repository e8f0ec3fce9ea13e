public import AsyncHTTPClient
public import LatchCore
public import LatchGateway
public import LatchIdentity
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// An upstream MCP server reached over Streamable HTTP (MCP 2025-11-25).
///
/// The session starts on first use (`initialize`, keeping the `Mcp-Session-Id` the server
/// gives, then `notifications/initialized`); later requests carry the session and
/// `MCP-Protocol-Version`. A response comes as a JSON body or as an SSE stream, in which the
/// event answering the request is taken and the rest ignored (the upstream's `ping` is answered).
/// A 404 on a session means the server forgot it: Latch initializes again once and retries.
///
/// - Important: the configured headers (typically `Authorization: Bearer <credential>`) go on
///   every request and nowhere else: never into a log or an error message.
public final class HTTPMCPUpstream: MCPUpstream {
    /// How to reach one HTTP upstream.
    public struct Configuration: Sendable {
        /// The upstream's name (the namespace of its tools).
        public var name: String
        /// The MCP endpoint, e.g. `https://tools.internal/mcp`.
        public var url: String
        /// Headers sent on every request (values are often credentials).
        public var headers: [String: Redacted<String>]
        /// How long one request may take, its whole response included. Default 30 s.
        public var requestTimeout: Duration
        /// The largest response body (or SSE event) read, in bytes. Default 16 MiB.
        public var maxResponseBytes: Int

        public init(
            name: String, url: String, headers: [String: Redacted<String>] = [:], requestTimeout: Duration = .seconds(30),
            maxResponseBytes: Int = 16 << 20
        ) {
            self.name = name
            self.url = url
            self.headers = headers
            self.requestTimeout = requestTimeout
            self.maxResponseBytes = maxResponseBytes
        }
    }

    /// What one MCP session is: the server's session ID (none for a stateless server) and the
    /// protocol revision agreed.
    struct Session: Hashable, Sendable {
        var id: String?
        var protocolVersion: String
    }

    public var name: String { self.configuration.name }
    private let configuration: Configuration
    private let client: HTTPClient
    private let logger: Logger
    private let clock: any Clock<Duration>
    private let sessions: SessionKeeper
    private let nextID = Mutex<Int64>(1)

    /// - Parameters:
    ///   - client: the HTTP client (its owner shuts it down), best made with ``clientConfiguration(connectTimeout:connectionsPerHost:)``.
    ///   - clock: times requests.
    public init(configuration: Configuration, client: HTTPClient, logger: Logger, clock: any Clock<Duration> = ContinuousClock()) {
        self.configuration = configuration
        self.client = client
        var logger = logger
        logger[metadataKey: LogKey.upstreamName] = "\(configuration.name)"
        self.logger = logger
        self.clock = clock
        self.sessions = SessionKeeper(upstream: configuration.name)
    }

    /// An HTTP client configuration for upstreams: redirects refused (a credential must not follow
    /// one elsewhere), no read timeout (each request's own timeout bounds it, a slow tool's stream
    /// included), up to `connectionsPerHost` HTTP/1.1 connections to one upstream, each kept idle
    /// at most 4 s. That is below the keep-alive of the servers MCP SDKs run on (uvicorn and
    /// Node.js close an idle connection after 5 s), so Latch drops a pooled connection before the
    /// server closes it: a call sent just as the server closed its connection would fail ("I/O on
    /// closed channel"), and a tool call is never retried (it may have side effects).
    ///
    /// - Parameter connectTimeout: how long a request may wait for a connection (a new one, or a
    ///   free one from the pool when all are busy). Default 10 s.
    public static func clientConfiguration(connectTimeout: Duration = .seconds(10), connectionsPerHost: Int = 64) -> HTTPClient.Configuration {
        let (seconds, attoseconds) = connectTimeout.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .nanoseconds(max(nanoseconds, 1_000_000)), read: nil))
        configuration.connectionPool = .init(idleTimeout: .seconds(4), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        return configuration
    }

    public func listTools() async throws(MCPUpstreamError) -> [JSONValue] {
        try await MCPClientMessages.listAllTools(upstream: self.name) { (params) throws(MCPUpstreamError) in
            try await self.request(method: "tools/list", params: params, headers: [:])
        }
    }

    /// Calls a tool; W3C trace context in `meta` (`traceparent`, `tracestate`) also goes out as headers.
    public func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue {
        var headers: [String: String] = [:]
        for key in ["traceparent", "tracestate"] {
            if let value = meta?[key]?.stringValue { headers[key] = value }
        }
        return try await self.callTool(name: name, arguments: arguments, meta: meta, headers: headers)
    }

    /// Calls a tool with extra headers on this request only (e.g. W3C `traceparent`).
    public func callTool(
        name: String, arguments: JSONValue?, meta: JSONValue?, headers: [String: String]
    ) async throws(MCPUpstreamError) -> JSONValue {
        for (field, value) in headers where !Self.isValidHeader(field, value) {
            throw MCPUpstreamError(.unavailable, "invalid header \(field) for upstream \(self.name)")
        }
        let params = MCPClientMessages.callToolParams(name: name, arguments: arguments, meta: meta)
        return try await self.request(method: "tools/call", params: params, headers: headers)
    }

    /// Ends the session (`DELETE` with its ID, best effort); later calls fail at once.
    public func shutdown() async {
        guard let session = await self.sessions.shutdown(), session.id != nil else { return }
        var request = self.baseRequest(session: session, headers: [:])
        request.method = .DELETE
        _ = try? await self.client.execute(request, timeout: .seconds(5), logger: nil)
    }

    // MARK: Requests

    /// One request in the current session (started first if needed); a session the server
    /// forgot is started again once.
    private func request(method: String, params: JSONValue?, headers: [String: String]) async throws(MCPUpstreamError) -> JSONValue {
        var session = try await self.session()
        for attempt in 0..<2 {
            let id = self.nextID.withLock { next in
                defer { next += 1 }
                return next
            }
            let message = MCPClientMessages.request(id: id, method: method, params: params)
            switch try await self.post(message, id: id, method: method, session: session, headers: headers) {
            case .message(let answer):
                return try MCPClientMessages.outcome(of: answer, upstream: self.name).get()
            case .accepted:
                throw MCPUpstreamError(.unavailable, "upstream \(self.name) answered \(method) with 202 and no response")
            case .sessionExpired where attempt == 0:
                self.logger.notice("upstream forgot the session; initializing again")
                await self.sessions.forget(session)
                session = try await self.session()
            case .sessionExpired:
                break
            }
        }
        throw MCPUpstreamError(.unavailable, "upstream \(self.name) lost the session again after initializing")
    }

    /// The current session, initializing one if there is none.
    private func session() async throws(MCPUpstreamError) -> Session {
        try await self.sessions.current { () async throws(MCPUpstreamError) -> Session in
            try await self.initialize()
        }
    }

    private func initialize() async throws(MCPUpstreamError) -> Session {
        let id = self.nextID.withLock { next in
            defer { next += 1 }
            return next
        }
        let message = MCPClientMessages.request(id: id, method: "initialize", params: MCPClientMessages.initializeParams)
        let (reply, sessionID) = try await self.postCapturingSession(message, id: id)
        guard case .message(let answer) = reply else {
            throw MCPUpstreamError(.unavailable, "upstream \(self.name) answered initialize without a response")
        }
        let result = try MCPClientMessages.outcome(of: answer, upstream: self.name).get()
        let version = try MCPClientMessages.negotiatedVersion(result, upstream: self.name).get()
        let session = Session(id: sessionID, protocolVersion: version)
        let initialized = MCPClientMessages.notification(method: "notifications/initialized", params: nil)
        _ = try await self.post(initialized, id: nil, method: "notifications/initialized", session: session, headers: [:])
        self.logger.notice("upstream session started", metadata: ["mcp.protocol": "\(version)", "stateful": "\(sessionID != nil)"])
        return session
    }

    enum Reply: Sendable {
        case message(JSONRPCMessage)
        case accepted
        case sessionExpired
    }

    /// `initialize`'s POST: no session yet; the server's `Mcp-Session-Id` is kept.
    private func postCapturingSession(_ message: [UInt8], id: Int64) async throws(MCPUpstreamError) -> (Reply, String?) {
        let captured = Mutex<String?>(nil)
        let reply = try await self.post(message, id: id, method: "initialize", session: nil, headers: [:]) { head in
            captured.withLock { $0 = head.headers.first(name: "mcp-session-id") }
        }
        return (reply, captured.withLock { $0 })
    }

    /// POSTs one message and reads its answer within the request timeout.
    ///
    /// - Parameter id: the request's id (the SSE event answering it is the one taken); nil for a notification.
    private func post(
        _ message: [UInt8], id: Int64?, method: String, session: Session?, headers: [String: String],
        onHead: @escaping @Sendable (HTTPClientResponse) -> Void = { _ in }
    ) async throws(MCPUpstreamError) -> Reply {
        var request = self.baseRequest(session: session, headers: headers)
        request.method = .POST
        request.headers.replaceOrAdd(name: "content-type", value: "application/json")
        request.body = .bytes(message)
        let prepared = request
        let timeout = self.configuration.requestTimeout
        let outcome = await Self.withTimeout(timeout, clock: self.clock) { () async -> Result<Reply, MCPUpstreamError> in
            await self.exchange(prepared, id: id, onHead: onHead)
        }
        switch outcome {
        case .some(.success(let reply)):
            return reply
        case .some(.failure(let error)):
            throw error
        case .none:
            if let id, let session {
                let cancelled = MCPClientMessages.cancelled(id: id, reason: "timeout")
                Task { _ = try? await self.post(cancelled, id: nil, method: "notifications/cancelled", session: session, headers: [:]) }
            }
            throw MCPUpstreamError(.unavailable, "upstream \(self.name) did not answer \(method) within \(timeout)")
        }
    }

    /// Sends the request and reads the answer: a JSON body, an SSE stream, 202 or a status error.
    private func exchange(
        _ request: HTTPClientRequest, id: Int64?, onHead: @Sendable (HTTPClientResponse) -> Void
    ) async -> Result<Reply, MCPUpstreamError> {
        let response: HTTPClientResponse
        do {
            response = try await self.client.execute(request, timeout: .seconds(3600), logger: nil)
        } catch {
            return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) is unreachable: \(Self.describe(error))"))
        }
        onHead(response)
        switch response.status.code {
        case 200:
            break
        case 202:
            return .success(.accepted)
        case 404 where request.headers.contains(name: "mcp-session-id"):
            return .success(.sessionExpired)
        case 401, 403:
            return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) refused Latch's credential (HTTP \(response.status.code))"))
        default:
            return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) answered HTTP \(response.status.code)"))
        }
        guard let id else { return .success(.accepted) }
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            return await self.readEventStream(response, id: id, session: request.headers.first(name: "mcp-session-id"))
        }
        if contentType.hasPrefix("application/json") {
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: self.configuration.maxResponseBytes)
            } catch is NIOTooManyBytesError {
                return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) answered over \(self.configuration.maxResponseBytes) bytes"))
            } catch {
                return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) broke off its answer: \(Self.describe(error))"))
            }
            guard let value = JSONValue(parsing: body.readableBytesView), let message = JSONRPCMessage(classifying: value),
                message.responseID == id
            else {
                return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) answered something that is not the JSON-RPC response"))
            }
            return .success(.message(message))
        }
        return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) answered content type \(contentType)"))
    }

    /// Reads SSE events until the one answering `id`; answers the upstream's `ping` on the way.
    private func readEventStream(_ response: HTTPClientResponse, id: Int64, session: String?) async -> Result<Reply, MCPUpstreamError> {
        var parser = ServerSentEventParser(maxEventBytes: self.configuration.maxResponseBytes)
        var total = 0
        do {
            for try await chunk in response.body {
                total += chunk.readableBytes
                if total > self.configuration.maxResponseBytes * 4 {
                    return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) streamed too much without answering"))
                }
                let events: [ServerSentEventParser.Event]
                do {
                    events = try parser.feed(chunk.readableBytesView)
                } catch {
                    return .failure(
                        MCPUpstreamError(.unavailable, "upstream \(self.name) sent an event over \(self.configuration.maxResponseBytes) bytes"))
                }
                for event in events where event.type == "message" {
                    guard let value = JSONValue(parsing: event.data), let message = JSONRPCMessage(classifying: value) else {
                        self.logger.notice("upstream sent an event that is not a JSON-RPC message", metadata: ["bytes": "\(event.data.count)"])
                        continue
                    }
                    switch message {
                    case .response where message.responseID == id:
                        return .success(.message(message))
                    case .response:
                        self.logger.debug("upstream streamed a response to another request")
                    case .request(let requestID, let method, _):
                        self.answerServerRequest(id: requestID, method: method, session: session)
                    case .notification(let method, _):
                        self.logger.debug("upstream notification", metadata: ["method": "\(method)"])
                    }
                }
            }
        } catch {
            return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) broke off its stream: \(Self.describe(error))"))
        }
        return .failure(MCPUpstreamError(.unavailable, "upstream \(self.name) ended its stream without answering"))
    }

    /// The upstream asked Latch something: `ping` gets an empty result, the rest an error.
    private func answerServerRequest(id: JSONValue, method: String, session: String?) {
        let answer =
            method == "ping"
            ? MCPClientMessages.response(id: id, result: .object([:]))
            : MCPClientMessages.errorResponse(id: id, code: -32601, message: "Latch does not serve \(method)")
        if method != "ping" { self.logger.debug("upstream sent a request Latch does not serve", metadata: ["method": "\(method)"]) }
        Task {
            guard let current = try? await self.session() else { return }
            _ = try? await self.post(answer, id: nil, method: "response", session: current, headers: [:])
        }
    }

    /// A request to the endpoint with the configured headers, the session's, and `headers`.
    private func baseRequest(session: Session?, headers: [String: String]) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: self.configuration.url)
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        for (field, value) in self.configuration.headers { request.headers.replaceOrAdd(name: field, value: value.unredacted) }
        for (field, value) in headers { request.headers.replaceOrAdd(name: field, value: value) }
        if let session {
            if let id = session.id { request.headers.replaceOrAdd(name: "mcp-session-id", value: id) }
            request.headers.replaceOrAdd(name: "mcp-protocol-version", value: session.protocolVersion)
        }
        return request
    }

    /// A header field name is a token; a value has no CR, LF or NUL.
    static func isValidHeader(_ field: String, _ value: String) -> Bool {
        let token = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        return !field.isEmpty && field.utf8.allSatisfy(token.contains) && !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
    }

    /// An error's description for a message: the transport's words, never a header.
    private static func describe(_ error: any Error) -> String {
        String(describing: error)
    }

    /// Runs `operation`, giving up after `timeout` (nil then; the operation is cancelled).
    private static func withTimeout<T: Sendable>(
        _ timeout: Duration, clock: any Clock<Duration>, _ operation: @escaping @Sendable () async -> T
    ) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

extension HTTPMCPUpstream {
    /// Holds the session: one `initialize` at a time, joined by every request that needs it.
    actor SessionKeeper {
        private enum State {
            case none
            case starting(Task<Result<Session, MCPUpstreamError>, Never>)
            case ready(Session)
            case shutDown
        }

        private var state = State.none
        private let upstream: String

        init(upstream: String) { self.upstream = upstream }

        func current(_ start: @escaping @Sendable () async throws(MCPUpstreamError) -> Session) async throws(MCPUpstreamError) -> Session {
            switch self.state {
            case .ready(let session):
                return session
            case .shutDown:
                throw MCPUpstreamError(.unavailable, "upstream \(self.upstream) was shut down")
            case .starting(let task):
                return try await task.value.get()
            case .none:
                let task = Task { () async -> Result<Session, MCPUpstreamError> in
                    do throws(MCPUpstreamError) {
                        return .success(try await start())
                    } catch {
                        return .failure(error)
                    }
                }
                self.state = .starting(task)
                let outcome = await task.value
                if case .starting = self.state {
                    switch outcome {
                    case .success(let session): self.state = .ready(session)
                    case .failure: self.state = .none
                    }
                }
                return try outcome.get()
            }
        }

        /// The server forgot `session`: the next request starts a new one.
        func forget(_ session: Session) {
            if case .ready(let current) = self.state, current == session { self.state = .none }
        }

        /// No more requests; returns the session to end, if one was open.
        func shutdown() -> Session? {
            defer { self.state = .shutDown }
            if case .ready(let session) = self.state { return session }
            return nil
        }
    }
}
