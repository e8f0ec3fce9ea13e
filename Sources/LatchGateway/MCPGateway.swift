import Crypto
public import LatchAudit
public import LatchCore
public import LatchGrants
public import LatchGuard
public import LatchIdentity
public import Logging
import Synchronization

/// Settings of the MCP endpoint, with their defaults.
public struct MCPGatewaySettings: Sendable {
    /// The audience a grant must name to be accepted here (default `latch-gateway`).
    public var audience = "latch-gateway"
    public var serverName = "latch"
    public var serverVersion = "0.1.0"
    /// Keep the prompt text an agent attaches (`_meta["dev.latch/prompt"]`) in records, sealed
    /// (`prompt_sealed`); by default only its keyed hash is kept.
    public var keepPrompts = false
    /// Keep each call's arguments (canonical JSON) in its decision record, sealed
    /// (`arguments_sealed`), so `latch policy replay` can re-decide policies that read them; by
    /// default only keyed hashes are kept.
    public var keepArguments = false
    /// How long a 2025-11-25 session lives without use (default 30 minutes).
    public var sessionIdleTimeout: Int64 = 30 * 60_000
    /// The most 2025-11-25 sessions kept at once; beyond it the least recently used ends.
    public var maxSessions = 10_000
    /// The runtime guard's rules (`guard_rules`); nil: no guard.
    public var guardRules: GuardRules?
    /// Told of every kill (`guard_webhook`); nil: only the log and the records.
    public var guardAlerts: (any GuardAlertSink)?
    /// Where held calls wait for a person (see ``Approval``); nil: a call that could be approved
    /// is denied `approval_required` with nothing to retry with.
    public var approvals: (any ApprovalRepository)?
    /// How long a held call's approval lives, milliseconds (`approval_ttl`, default 10 minutes):
    /// undecided, or approved and not retried, by then it denies.
    public var approvalTTL: Int64 = 10 * 60_000
    /// The most approvals one task may have pending at once (`approval_max_pending`, default 5);
    /// beyond it a held call is denied `approval_rate_limit` and no approval is created.
    public var approvalMaxPending = 5

    public init() {}
}

/// The gateway's MCP endpoint (Streamable HTTP, protocol 2025-11-25 with sessions and the
/// stateless 2026-07-28 revision), independent of any HTTP server: every request is
/// authenticated (grant + DPoP proof), `tools/list` shows only what the grant and policies could
/// allow, and `tools/call` runs the hot path: scope → Cedar decision over the session's facts →
/// forward → record.
public final class MCPGateway: Sendable {
    /// What the gateway serves right now; replaced whole when upstreams or policies change.
    public struct Snapshot: Sendable {
        public var catalog: ToolCatalog
        public var upstreams: [String: any MCPUpstream]
        /// nil: no policies are configured, and every call is denied.
        public var policy: ToolCallPolicy?
        /// Upstreams whose credential cannot be produced (a secret is missing), with why: their
        /// tools stay listed, and every call of them is denied (`credential_unavailable`).
        public var credentialProblems: [String: String]
        /// Tools an upstream lists whose definition is not the accepted one (tool pinning), by
        /// namespaced name: not in ``catalog``, so never listed; a call of one is denied with
        /// its reason rather than `unknown_tool`.
        public var disabledTools: [String: DisabledTool]

        public init(
            catalog: ToolCatalog, upstreams: [String: any MCPUpstream], policy: ToolCallPolicy?, credentialProblems: [String: String] = [:],
            disabledTools: [String: DisabledTool] = [:]
        ) {
            self.catalog = catalog
            self.upstreams = upstreams
            self.policy = policy
            self.credentialProblems = credentialProblems
            self.disabledTools = disabledTools
        }
    }

    public static let modernVersion = "2026-07-28"
    /// Revisions reachable with `initialize`, newest first.
    public static let handshakeVersions = ["2025-11-25", "2025-06-18", "2025-03-26"]
    /// The `_meta` key an agent puts its prompt under.
    public static let promptMetaKey = "dev.latch/prompt"
    /// The `_meta` key of a tool result under which an upstream labels the result's sensitivity
    /// (`public` … `restricted`); without it the tool's configured label applies.
    public static let sensitivityMetaKey = "dev.latch/sensitivity"

    public let settings: MCPGatewaySettings
    /// Latch's public base URL (the issuer), read per request: the port may be chosen at start.
    let baseURL: @Sendable () -> String
    let authority: GrantAuthority
    /// Checks every request's grant and proof (shared with the HTTP egress).
    public let authenticator: GrantAuthenticator
    let recorder: any DecisionRecorder
    /// Keyed hashes and sealing of record values, under the ledger's value key.
    public let privacy: RecordPrivacy
    let clock: any WallClock
    let logger: Logger
    let snapshot: Mutex<Snapshot>
    public let facts = SessionFactsTable()
    /// The guard's per-agent histories (per-task ones live in ``facts``).
    let agentHistories = GuardAgentTable()
    let sessions: MCPSessionTable
    /// Decisions, their latency, and the upstreams' (see ``GatewayMetrics``).
    public let metrics: GatewayMetrics

    public init(
        settings: MCPGatewaySettings, baseURL: @escaping @Sendable () -> String, authority: GrantAuthority, snapshot: Snapshot, recorder: any DecisionRecorder,
        valueKey: LedgerValueKey, clock: any WallClock, logger: Logger, metrics: GatewayMetrics = GatewayMetrics()
    ) {
        self.settings = settings
        self.baseURL = baseURL
        self.authority = authority
        self.authenticator = GrantAuthenticator(authority: authority, audience: settings.audience, logger: logger)
        self.snapshot = Mutex(snapshot)
        self.recorder = recorder
        self.privacy = RecordPrivacy(key: valueKey)
        self.clock = clock
        self.logger = logger
        self.sessions = MCPSessionTable(idleTimeout: settings.sessionIdleTimeout, capacity: settings.maxSessions)
        self.metrics = metrics
        for name in snapshot.upstreams.keys { _ = metrics.upstream(name) }
    }

    /// Replaces what the gateway serves (new catalog, upstreams or policies).
    public func update(_ body: (inout Snapshot) -> Void) {
        let names = self.snapshot.withLock { snapshot in
            body(&snapshot)
            return Array(snapshot.upstreams.keys)
        }
        // Every configured upstream's series exist from the start (at 0).
        for name in names { _ = self.metrics.upstream(name) }
    }

    public var current: Snapshot { self.snapshot.withLock { $0 } }

    /// The endpoint's public URL: what DPoP proofs name as `htu`, and the RFC 9728 `resource`.
    public var resourceURL: String { self.baseURL() + Self.path }
    /// Where the RFC 9728 protected-resource metadata of the endpoint is served.
    public var resourceMetadataURL: String { self.baseURL() + Self.metadataPath }
    public static let path = "/mcp"
    public static let metadataPath = "/.well-known/oauth-protected-resource/mcp"

    /// RFC 9728 protected-resource metadata: the resource, the authorization server (Latch's
    /// issuer), DPoP-bound tokens only, ES256 proofs.
    public var resourceMetadata: JSONValue {
        .object([
            "resource": .string(self.resourceURL),
            "authorization_servers": .array([.string(self.baseURL())]),
            "bearer_methods_supported": .array([.string("header")]),
            "dpop_bound_access_tokens_required": .bool(true),
            "dpop_signing_alg_values_supported": .array([.string("ES256")]),
            "resource_name": .string("Latch MCP gateway"),
        ])
    }

    /// Answers one HTTP request to the MCP endpoint.
    public func handle(_ request: MCPHTTPRequest) async -> MCPHTTPResponse {
        let started = ContinuousClock.now
        let now = self.clock.now().milliseconds
        guard request.method == "POST" || request.method == "DELETE" else {
            return MCPHTTPResponse(status: 405, headers: [("Allow", "POST, DELETE")])
        }
        let grant: TaskGrant
        switch self.authenticate(request, now: now) {
        case .proceed(let verified): grant = verified
        case .answer(let response): return response
        }
        if request.method == "DELETE" {
            guard case .value(let id) = request.header("mcp-session-id") else {
                return Self.failure(400, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "DELETE needs one Mcp-Session-Id header"))
            }
            self.sessions.end(id, grant: grant)
            return MCPHTTPResponse(status: 204)
        }
        switch request.header("content-type") {
        case .duplicated: return Self.failure(400, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Content-Type appears more than once"))
        case .value(let contentType) where !Self.isJSON(contentType):
            return Self.failure(415, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Content-Type must be application/json"))
        default: break
        }
        switch request.header("accept") {
        case .duplicated: return Self.failure(400, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Accept appears more than once"))
        case .value(let accept) where !Self.accepts(accept):
            return Self.failure(406, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Accept must allow application/json"))
        default: break
        }
        let message: JSONRPC.Message
        do { message = try JSONRPC.Message(parsing: request.body) } catch { return Self.failure(400, error) }

        let exchange: Exchange
        switch self.exchange(for: message, request: request, grant: grant, now: now) {
        case .proceed(let value): exchange = value
        case .answer(let response): return response
        }
        guard let id = message.id else { return MCPHTTPResponse(status: 202) }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let session = exchange.newSession { headers.append(("Mcp-Session-Id", session)) }
        switch await self.dispatch(message, exchange: exchange, grant: grant, now: now, started: started) {
        case .success(let result): return MCPHTTPResponse(status: 200, headers: headers, body: JSONRPC.result(id: id, result))
        case .failure(var failure):
            failure.id = id
            let status = exchange.modern && failure.code == JSONRPC.methodNotFound ? 404 : 200
            return MCPHTTPResponse(status: status, headers: headers, body: JSONRPC.error(failure))
        }
    }

    /// Either go on with a value, or answer the request now.
    enum Step<Value> {
        case proceed(Value)
        case answer(MCPHTTPResponse)
    }

    /// The revision a message speaks and its session, once its headers are checked.
    struct Exchange {
        var modern: Bool
        var protocolVersion: String
        /// A session created by this `initialize`.
        var newSession: String?
    }

    private func exchange(for message: JSONRPC.Message, request: MCPHTTPRequest, grant: TaskGrant, now: Int64) -> Step<Exchange>
    {
        let version = request.header("mcp-protocol-version")
        if version == .duplicated { return .answer(Self.headerMismatch("MCP-Protocol-Version appears more than once", id: message.id)) }
        if version.value == Self.modernVersion {
            if let problem = Self.modernHeaderProblem(message, request: request) { return .answer(Self.headerMismatch(problem, id: message.id)) }
            return .proceed(Exchange(modern: true, protocolVersion: Self.modernVersion))
        }
        if let value = version.value, !Self.handshakeVersions.contains(value) {
            let data = JSONValue.object([
                "supported": .array(([Self.modernVersion] + Self.handshakeVersions).map(JSONValue.string)), "requested": .string(value),
            ])
            return .answer(
                Self.failure(
                    400, JSONRPC.Failure(code: JSONRPC.unsupportedProtocolVersion, message: "protocol version \(value) is not served", data: data, id: message.id)))
        }
        if message.method == "initialize" {
            guard message.id != nil else {
                return .answer(Self.failure(400, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "initialize must be a request (with an id)")))
            }
            let requested = message.params["protocolVersion"]?.stringValue ?? ""
            let chosen = Self.handshakeVersions.contains(requested) ? requested : Self.handshakeVersions[0]
            let id = self.sessions.open(grant: grant, protocolVersion: chosen, now: now)
            return .proceed(Exchange(modern: false, protocolVersion: chosen, newSession: id))
        }
        guard case .value(let sessionID) = request.header("mcp-session-id") else {
            return .answer(
                Self.failure(400, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Bad Request: missing Mcp-Session-Id (initialize first, or use protocol \(Self.modernVersion))", id: message.id)))
        }
        guard let session = self.sessions.use(sessionID, grant: grant, now: now) else {
            return .answer(Self.failure(404, JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "Session not found", id: message.id)))
        }
        if let value = version.value, value != session.protocolVersion {
            return .answer(Self.headerMismatch("MCP-Protocol-Version differs from the session's \(session.protocolVersion)", id: message.id))
        }
        return .proceed(Exchange(modern: false, protocolVersion: session.protocolVersion))
    }

    /// 2026-07-28: `Mcp-Method` must equal the body's method, `Mcp-Name` the tool's name, and
    /// the envelope's protocol version the header's.
    static func modernHeaderProblem(_ message: JSONRPC.Message, request: MCPHTTPRequest) -> String? {
        switch request.header("mcp-method") {
        case .absent: return "the Mcp-Method header is missing"
        case .duplicated: return "Mcp-Method appears more than once"
        case .value(let method) where method != message.method: return "the Mcp-Method header does not match the body's method"
        case .value: break
        }
        let meta = message.params["_meta"]
        if message.id != nil, meta?["io.modelcontextprotocol/protocolVersion"]?.stringValue != Self.modernVersion {
            return "params._meta must carry io.modelcontextprotocol/protocolVersion equal to the MCP-Protocol-Version header"
        }
        if message.method == "tools/call" {
            let expected = message.params["name"]?.stringValue
            switch request.header("mcp-name") {
            case .absent: return "the Mcp-Name header is missing"
            case .duplicated: return "Mcp-Name appears more than once"
            case .value(let name) where Self.decodeHeaderValue(name) != expected: return "the Mcp-Name header does not match the body's name"
            case .value: break
            }
        }
        return nil
    }

    /// A header value as MCP writes it: plain, or `=?base64?…?=` for values that are not
    /// printable ASCII.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?") && value.hasSuffix("?=") && value.count >= 11 else { return value }
        let inner = value.dropFirst(9).dropLast(2)
        return Base64URL.decodeStandard(String(inner)).map { String(decoding: $0, as: UTF8.self) }
    }

    private func dispatch(_ message: JSONRPC.Message, exchange: Exchange, grant: TaskGrant, now: Int64, started: ContinuousClock.Instant) async
        -> Result<JSONValue, JSONRPC.Failure>
    {
        switch message.method {
        case "initialize" where !exchange.modern:
            return .success(
                .object([
                    "protocolVersion": .string(exchange.protocolVersion),
                    "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
                    "serverInfo": .object(["name": .string(self.settings.serverName), "version": .string(self.settings.serverVersion)]),
                    "instructions": .string("Tools are served by Latch: every call is authorized for this task's grant."),
                ]))
        case "server/discover" where exchange.modern:
            return .success(
                self.modernResult([
                    "supportedVersions": .array([.string(Self.modernVersion)]),
                    "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
                    "_meta": .object([
                        "io.modelcontextprotocol/serverInfo": .object([
                            "name": .string(self.settings.serverName), "version": .string(self.settings.serverVersion),
                        ])
                    ]),
                ], cacheable: true))
        case "ping":
            return .success(exchange.modern ? self.modernResult([:], cacheable: false) : .object([:]))
        case "tools/list":
            let tools = self.listTools(grant: grant, now: now)
            return .success(exchange.modern ? self.modernResult(["tools": .array(tools)], cacheable: true) : .object(["tools": .array(tools)]))
        case "tools/call":
            return await self.callTool(message, modern: exchange.modern, grant: grant, now: now, started: started)
        default:
            return .failure(JSONRPC.Failure(code: JSONRPC.methodNotFound, message: "Method not found", data: .string(message.method)))
        }
    }

    /// A 2026-07-28 result: `resultType` always; `ttlMs` and `cacheScope` on cacheable ones
    /// (nothing Latch answers may be cached: it depends on the grant).
    func modernResult(_ members: [String: JSONValue], cacheable: Bool) -> JSONValue {
        var object = members
        object["resultType"] = .string("complete")
        if cacheable {
            object["ttlMs"] = .int(0)
            object["cacheScope"] = .string("private")
        }
        return .object(object)
    }

    /// The tools this grant's `tools/list` shows.
    func listTools(grant: TaskGrant, now: Int64) -> [JSONValue] {
        let snapshot = self.current
        guard let policy = snapshot.policy, self.authority.quarantines.quarantine(of: grant) == nil else { return [] }
        let facts = self.facts.snapshot(task: grant.taskID)
        return snapshot.catalog.tools.filter { policy.mayList(grant: grant, tool: $0, facts: facts, now: now) }.map(\.definition)
    }

    // MARK: Authentication

    private func authenticate(_ request: MCPHTTPRequest, now: Int64) -> Step<TaskGrant> {
        let outcome = self.authenticator.authenticate(
            method: request.method, uri: self.resourceURL, authorization: request.headers["authorization"] ?? [], proof: request.headers["dpop"] ?? [],
            now: now)
        switch outcome {
        case .success(let grant):
            return .proceed(grant)
        case .failure(let refusal) where refusal.status == 401:
            return .answer(self.unauthorized(refusal))
        case .failure(let refusal):
            return .answer(Self.failure(refusal.status, JSONRPC.Failure(code: JSONRPC.internalError, message: refusal.description)))
        }
    }

    /// 401 with `WWW-Authenticate: DPoP` (RFC 9449 §7.1) naming the protected-resource
    /// metadata (RFC 9728), and a JSON-RPC error body so MCP clients see the reason.
    private func unauthorized(_ refusal: GrantAuthenticator.Refusal) -> MCPHTTPResponse {
        var response = Self.failure(
            401, JSONRPC.Failure(code: JSONRPC.notAuthenticated, message: refusal.description, data: refusal.error.map(JSONValue.string)))
        response.headers.append(("WWW-Authenticate", GrantAuthenticator.challenge(refusal, resourceMetadataURL: self.resourceMetadataURL)))
        response.headers.append(("Cache-Control", "no-store"))
        return response
    }

    // MARK: Helpers

    static func failure(_ status: Int, _ failure: JSONRPC.Failure) -> MCPHTTPResponse {
        MCPHTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: JSONRPC.error(failure))
    }

    static func headerMismatch(_ message: String, id: JSONValue?) -> MCPHTTPResponse {
        Self.failure(400, JSONRPC.Failure(code: JSONRPC.headerMismatch, message: message, id: id))
    }

    static func isJSON(_ contentType: String) -> Bool {
        // What clients send, answered without splitting and lowercasing.
        if contentType == "application/json" { return true }
        return contentType.split(separator: ";").first.map { $0.trimmingWhitespace.lowercased() == "application/json" } ?? false
    }

    static func accepts(_ accept: String) -> Bool {
        // The value MCP's Streamable HTTP has clients send, answered without parsing.
        if accept == "application/json, text/event-stream" { return true }
        return accept.split(separator: ",").contains { item in
            let type = item.split(separator: ";").first.map { $0.trimmingWhitespace.lowercased() } ?? ""
            return type == "application/json" || type == "application/*" || type == "*/*"
        }
    }
}
