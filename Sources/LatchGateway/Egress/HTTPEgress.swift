import Crypto
public import LatchCore
import LatchGrants
import LatchGuard
public import LatchIdentity
import Logging
import Synchronization

import enum CedarPolicy.Value

/// One request to the egress endpoint, as the HTTP layer hands it over.
public struct HTTPEgressRequest: Sendable {
    public var method: String
    /// The request's path as sent (percent-encoded), `/egress/<api>/…`.
    public var path: String
    /// The query as sent, without `?`; nil when the URL has none.
    public var query: String?
    /// In order, duplicates kept.
    public var headers: [(name: String, value: String)]
    /// nil: the body was larger than ``HTTPEgress/maxRequestBytes`` and was not read.
    public var body: [UInt8]?

    public init(method: String, path: String, query: String?, headers: [(name: String, value: String)], body: [UInt8]?) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Every value of a header (name in lowercase).
    func values(_ name: String) -> [String] { self.headers.filter { $0.name.lowercased() == name }.map(\.value) }
}

/// The egress endpoint's answer, for the HTTP layer to send as it is: the same shape as the MCP
/// endpoint's, so one type serves both.
public typealias HTTPEgressResponse = MCPHTTPResponse

/// The gateway's HTTP egress: agents reach the configured plain HTTP APIs at
/// `/egress/<api>/<path>` with the same grant, decision, session facts and records as MCP tool
/// calls, and Latch adds the API's credential on the way out.
///
/// A request is a call of tool `<api>.<class>` (``HTTPVerbClass``: `read`, `write`, `delete`)
/// whose destination is the API's host: authenticate (grant + DPoP proof for this method and URL)
/// → scope and Cedar (``ToolCallPolicy``, with `context.http`: `method`, `path`, `query`) over the
/// task's ``SessionFacts`` → forward (credential headers rendered from the secret store, a child
/// `traceparent`) → label the result with the API's sensitivity → answer. Records (method `http`,
/// tool `<api>.<class>`) as for tool calls: one ``DecisionRecord`` per decision, stored before
/// anything is sent, and for a forwarded request an outcome record once the API answered.
///
/// - Important: the agent's `Authorization`, `DPoP` and `Cookie` never reach the API, and the
///   credential headers never reach the agent (see ``EgressHeaders``).
public final class HTTPEgress: Sendable {
    /// One configured API and its credential as last rendered.
    public struct API: Sendable {
        public var configuration: HTTPAPIConfiguration
        /// The rendered credential headers; nil while they cannot be produced.
        public var credential: [(name: String, value: Redacted<String>)]?
        /// Why there is no credential (a secret is missing, a value is not a valid header).
        public var credentialProblem: String?

        public init(configuration: HTTPAPIConfiguration, credential: [(name: String, value: Redacted<String>)]?, credentialProblem: String? = nil) {
            self.configuration = configuration
            self.credential = credential
            self.credentialProblem = credentialProblem
        }
    }

    /// The largest request body forwarded (1 MiB).
    public static let maxRequestBytes = 1 << 20
    /// The largest response body passed back (16 MiB).
    public static let maxResponseBytes = 16 << 20
    /// The response header naming the request's decision record.
    public static let decisionHeader = "Latch-Decision-Id"

    let gateway: MCPGateway
    let transport: any HTTPAPITransport
    private let apis: Mutex<[String: API]>

    /// - Parameter apis: the configured APIs; those with credential headers have none until
    ///   the first ``update(_:)`` renders them (their calls are denied `credential_unavailable`).
    public init(gateway: MCPGateway, transport: any HTTPAPITransport, apis: [HTTPAPIConfiguration]) {
        self.gateway = gateway
        self.transport = transport
        var table: [String: API] = [:]
        for api in apis {
            table[api.name] =
                api.headers.isEmpty
                ? API(configuration: api, credential: []) : API(configuration: api, credential: nil, credentialProblem: "not rendered yet")
        }
        self.apis = Mutex(table)
    }

    /// Replaces the APIs' state (their rendered credentials).
    public func update(_ body: (inout [String: API]) -> Void) { self.apis.withLock { body(&$0) } }

    public subscript(api name: String) -> API? { self.apis.withLock { $0[name] } }

    /// The public URL of one API's endpoint (what proofs name as `htu`, without the rest of the path).
    public func resourceURL(api: String) -> String { self.gateway.baseURL() + EgressPath.prefix + api }

    /// Where the RFC 9728 metadata of an API's endpoint is served.
    public func resourceMetadataURL(api: String) -> String {
        self.gateway.baseURL() + "/.well-known/oauth-protected-resource" + EgressPath.prefix + api
    }

    /// RFC 9728 protected-resource metadata of one API's endpoint.
    public func resourceMetadata(api: String) -> JSONValue {
        .object([
            "resource": .string(self.resourceURL(api: api)),
            "authorization_servers": .array([.string(self.gateway.baseURL())]),
            "bearer_methods_supported": .array([.string("header")]),
            "dpop_bound_access_tokens_required": .bool(true),
            "dpop_signing_alg_values_supported": .array([.string("ES256")]),
            "resource_name": .string("Latch HTTP egress: \(api)"),
        ])
    }

    /// Answers one request to `/egress/…`.
    public func handle(_ request: HTTPEgressRequest) async -> HTTPEgressResponse {
        let started = ContinuousClock.now
        let now = self.gateway.clock.now().milliseconds
        guard let target = EgressPath(path: request.path) else {
            return Self.json(404, ["error": .string("invalid_request"), "message": .string("use /egress/<api>/<path>")])
        }
        guard let verb = HTTPVerbClass(method: request.method) else {
            var response = Self.json(405, ["error": .string("invalid_request"), "message": .string("\(request.method) is not forwarded")])
            response.headers.append(("Allow", HTTPVerbClass.methods.joined(separator: ", ")))
            return response
        }
        let grant: TaskGrant
        let authentication = self.gateway.authenticator.authenticate(
            method: request.method, uri: self.gateway.baseURL() + request.path, authorization: request.values("authorization"),
            proof: request.values("dpop"), now: now)
        switch authentication {
        case .success(let verified): grant = verified
        case .failure(let refusal): return self.unauthorized(refusal, api: target.api)
        }

        let toolName = target.api + "." + verb.rawValue
        var record = DecisionRecord(
            id: MCPGateway.recordID(now: now), time: now, taskID: grant.taskID, grantID: grant.id, agent: grant.holder.description,
            subject: grant.subject.description, actors: grant.actors.map(\.description), method: "http", tool: toolName, allowed: false)
        var meta: [String: JSONValue] = [:]
        for name in ["traceparent", "tracestate"] {
            let values = request.values(name)
            if values.count == 1, let value = values.first { meta[name] = .string(value) }
        }
        let trace = TraceContext(meta: meta, now: now)
        record.traceID = trace.traceID
        let bodyDigest = request.body.map { hexString(SHA256.hash(data: $0)) }
        let digested: JSONValue = .object([
            "method": .string(request.method), "path": .string(target.rest), "query": request.query.map(JSONValue.string) ?? .null,
            "body_sha256": bodyDigest.map(JSONValue.string) ?? .null,
        ])
        // Keyed hashes of the whole request and of its path and query (what an investigator
        // would search by); the request itself only when arguments are kept, sealed.
        record.argumentsHMAC = self.gateway.privacy.argumentsHMAC(digested)
        var selected: [String: JSONValue] = ["path": .string(target.rest)]
        if let query = request.query { selected["query"] = .string(query) }
        record.argumentHMACs = self.gateway.privacy.argumentHMACs(selected, selected: selected.keys)
        if self.gateway.settings.keepArguments {
            guard let sealed = self.gateway.sealed({ () throws(LatchError) in try self.gateway.privacy.sealArguments(digested, recordID: record.id) })
            else {
                return Self.json(
                    500, ["error": .string("server_error"), "message": .string("the request could not be recorded, so it was not sent")])
            }
            record.argumentsSealed = sealed
        }

        // A retry of a held request names its approval in `Latch-Approval`: read before deciding
        // (only then), consumed after, if the decision leans on it.
        let named = request.values(Approval.egressHeader.lowercased())
        let presented: MCPGateway.PresentedApproval
        if named.count > 1 {
            presented = .unusable(DenialReason(DenialReason.approvalMismatch, "name one approval in \(Approval.egressHeader)"), id: nil)
        } else {
            presented = await self.gateway.presentedApproval(named.first.map(JSONValue.string))
        }
        var approvalDigest: String?
        var approved = false
        switch presented {
        case .found(let approval):
            record.approvalID = approval.id
            let digest = Self.approvalDigest(request, api: target.api, rest: target.rest, bodyDigest: bodyDigest, grant: grant)
            approvalDigest = digest
            approved = approval.releases(digest: digest, now: now)
        case .unusable(_, let id): record.approvalID = id
        case .none: break
        }

        // Malformed requests and unknown APIs: denied and recorded, never forwarded.
        let refusal: (status: Int, code: String, message: String)?
        let api = self[api: target.api]
        if request.body == nil {
            refusal = (413, DenialReason.invalidArguments, "the body is larger than \(Self.maxRequestBytes) bytes")
        } else if let problem = target.problem {
            refusal = (400, DenialReason.invalidArguments, problem)
        } else if api == nil {
            refusal = (404, DenialReason.unknownTool, "no HTTP API named \(target.api) is served here")
        } else {
            refusal = nil
        }
        if let refusal {
            self.gateway.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordDenied(now: now) }
            record.reason = refusal.code
            record.message = refusal.message
            return await self.finish(
                record, started: started, self.denial(refusal.status, DenialReason(refusal.code, refusal.message), record: record))
        }
        guard let api, let body = request.body else { return HTTPEgressResponse(status: 500) }

        let configuration = api.configuration
        let labels = configuration.labels(for: verb)
        let tool = GatewayTool(
            upstream: configuration.name, definition: .object(["name": .string(verb.rawValue)]), labels: labels)
        guard let tool else { return HTTPEgressResponse(status: 500) }
        let http: [String: Value] = [
            "http": .record([
                "method": .string(request.method), "path": .string(target.rest.isEmpty ? "/" : target.rest),
                "query": .string(request.query ?? ""),
            ])
        ]
        let policy = self.gateway.current.policy
        let screened = self.gateway.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
            // The path and query are the request's arguments, as far as provenance goes.
            let taint = MCPGateway.taint(
                of: ["path": .string(target.rest), "query": .string(request.query ?? ""), "body": .string(String(decoding: body, as: UTF8.self))],
                in: facts.provenance)
            var context = http
            context["tainted_arguments"] = LatchEntities.strings(taint.names)
            // The path is an argument: not in the facts (see DecisionFacts).
            record.facts = DecisionFacts(session: facts, now: now, taintedArguments: taint.names, http: DecisionFacts.HTTP(method: request.method))
            var decision =
                policy?.decide(
                    grant: grant, tool: tool, arguments: [:], fixedDestination: configuration.host, context: context, facts: facts, now: now)
                ?? .deny(DenialReason.policyDenied, "no gateway policies are configured", destination: configuration.host)
            if decision.allowed, api.credential == nil {
                decision = .deny(
                    DenialReason.credentialUnavailable, "the credential HTTP API \(configuration.name) needs is unavailable",
                    policies: decision.policies,
                    destination: decision.destination)
            }
            let screened = self.gateway.screen(decision, tool: tool, grant: grant, taint: taint.sources, facts: &facts, now: now, approved: approved)
            if screened.decision.allowed { facts.recordAllowed(tool, now: now) } else { facts.recordDenied(now: now) }
            return screened
        }
        var decision = screened.decision
        if screened.verdict.action == .kill {
            await self.gateway.tripKillSwitch(grant: grant, verdict: screened.verdict, decisionID: record.id, now: now)
        }
        // Holds as for tool calls: a new approval, or the named one consumed (see MCPGateway.settleApproval).
        var approvalExpiry: Int64?
        if screened.released || decision.approvable != nil {
            var shown: [String: JSONValue] = [
                "method": .string(request.method), "path": .string(target.rest.isEmpty ? "/" : target.rest),
                "query": request.query.map(JSONValue.string) ?? .null,
            ]
            if let text = String(validating: body, as: UTF8.self) {
                if !text.isEmpty { shown["body"] = .string(text) }
            } else {
                shown["body_sha256"] = .string(bodyDigest ?? "")
            }
            let held = await self.gateway.settleApproval(
                decision, released: screened.released, presented: presented,
                digest: approvalDigest ?? Self.approvalDigest(request, api: target.api, rest: target.rest, bodyDigest: bodyDigest, grant: grant),
                grant: grant, record: record,
                held: MCPGateway.HeldCall(
                    arguments: .object(shown), prompt: nil, labels: labels, taintedArguments: record.facts?.taintedArguments ?? [],
                    httpMethod: request.method),
                now: now)
            decision = held.decision
            record.approvalID = held.approvalID ?? record.approvalID
            approvalExpiry = held.expiresAt
            if let note = held.note { record.message = note }
            if screened.released, !decision.allowed {
                // Counted as allowed while deciding; the approval was lost meanwhile: a denial.
                self.gateway.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
                    facts.recordResult(nil)
                    facts.recordDenied(now: now)
                }
            }
        }
        record.allowed = decision.allowed
        record.reason = decision.reason?.code
        record.message = decision.reason?.message ?? record.message
        record.policies = decision.policies
        record.policyErrors = decision.errors
        record.destination = decision.destination ?? configuration.host
        guard decision.allowed, let credential = api.credential else {
            let reason = decision.reason ?? DenialReason(DenialReason.policyDenied, "denied")
            return await self.finish(
                record, started: started,
                self.denial(403, reason, policies: decision.policies, errors: decision.errors, record: record, approvalExpiry: approvalExpiry))
        }
        // Nothing goes out that is not on record: the decision is stored first.
        record.upstreamOutcome = "forwarded"
        guard await self.store(record, started: started) else {
            self.gateway.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { $0.recordResult(nil) }
            return Self.json(500, ["error": .string("server_error"), "message": .string("the request could not be recorded, so it was not sent")])
        }
        var outcome = record
        outcome.id = MCPGateway.recordID(now: now)
        outcome.decisionID = record.id
        outcome.argumentsSealed = nil
        outcome.facts = nil
        let headers = EgressHeaders.forwarded(
            request.headers, injected: credential.map { (name: $0.name, value: $0.value.unredacted) }, traceParent: trace.childParent,
            traceState: trace.traceState)
        let forwarded = HTTPAPIRequest(
            method: request.method, url: configuration.baseURL + target.rest + (request.query.map { "?" + $0 } ?? ""), headers: headers, body: body,
            timeout: configuration.callTimeout, maxResponseBytes: Self.maxResponseBytes)
        let (response, label) = await self.forward(forwarded, api: configuration.name, sensitivity: labels.sensitivity, outcome: &outcome)
        self.gateway.facts.withFacts(task: grant.taskID, expiresAt: grant.expiresAt, now: now) { facts in
            guard let label else { return facts.recordResult(nil) }
            let remembered = tool.labels.untrusted || label >= .confidential
            facts.recordResult(label, untrusted: tool.labels.untrusted, text: remembered ? String(decoding: response.body, as: UTF8.self) : "")
            self.gateway.screenResult(of: screened.call, tool: tool, sensitivity: label, facts: &facts)
        }
        outcome.time = max(now + 1, self.gateway.clock.now().milliseconds)  // after its decision, even within one millisecond
        return await self.finish(outcome, started: started, response)
    }

    /// Sends an allowed request and fills its outcome record; the label is the answer's
    /// sensitivity when it reaches the agent, nil when nothing does.
    private func forward(
        _ request: HTTPAPIRequest, api: String, sensitivity: Sensitivity, outcome: inout DecisionRecord
    ) async
        -> (HTTPEgressResponse, Sensitivity?)
    {
        let metrics = self.gateway.metrics.upstream(api)
        let forwarded = ContinuousClock.now
        let answer: HTTPAPIResponse
        do {
            answer = try await self.transport.send(request)
            metrics.seconds.recordElapsed(since: forwarded)
        } catch {
            metrics.seconds.recordElapsed(since: forwarded)
            metrics.countError(.unavailable)
            outcome.upstreamOutcome = "unavailable"
            return (self.unavailable(error.kind == .timeout ? 504 : 502, "HTTP API \(api): \(error.reason)", record: outcome), nil)
        }
        outcome.upstreamOutcome = (200..<300).contains(answer.status) ? "ok" : "http_\(answer.status)"
        if answer.status == 401 {
            // The API refused Latch's credential: the agent can do nothing about that, and a 401
            // passed on would read as Latch refusing its grant.
            return (self.unavailable(502, "HTTP API \(api) refused Latch's credential (HTTP 401)", record: outcome), nil)
        }
        // The answer's label is the API's: an API's own claim about its answer is not trusted.
        var response = HTTPEgressResponse(status: answer.status, body: answer.body)
        for header in answer.headers where EgressHeaders.returned.contains(header.name.lowercased()) {
            response.headers.append((header.name, header.value))
        }
        return (response, sensitivity)
    }

    // MARK: Answers

    /// 401 as at `/mcp`: `WWW-Authenticate: DPoP …` naming this API's metadata, and an OAuth
    /// error body.
    private func unauthorized(_ refusal: GrantAuthenticator.Refusal, api: String) -> HTTPEgressResponse {
        var body: [String: JSONValue] = ["error": .string(refusal.error ?? "invalid_request"), "error_description": .string(refusal.description)]
        if refusal.status != 401 { body["error"] = .string("temporarily_unavailable") }
        var response = Self.json(refusal.status, body)
        if refusal.status == 401 {
            response.headers.append(
                ("WWW-Authenticate", GrantAuthenticator.challenge(refusal, resourceMetadataURL: self.resourceMetadataURL(api: api))))
        }
        return response
    }

    /// A denial: `{"error": "denied", "reason", "message", "policies", "errors", "decision_id"}`,
    /// plus `approval_id` (and `approval_expires_at`) when the request was held or named an approval.
    private func denial(
        _ status: Int, _ reason: DenialReason, policies: [String] = [], errors: [String] = [], record: DecisionRecord, approvalExpiry: Int64? = nil
    )
        -> HTTPEgressResponse
    {
        var members: [String: JSONValue] = [
            "error": .string("denied"), "reason": .string(reason.code), "message": .string(reason.message),
            "policies": .array(policies.map(JSONValue.string)), "errors": .array(errors.map(JSONValue.string)),
            "decision_id": .string(record.decisionID ?? record.id),
        ]
        if let approvalID = record.approvalID { members["approval_id"] = .string(approvalID) }
        if let approvalExpiry { members["approval_expires_at"] = .int(approvalExpiry) }
        return Self.json(status, members)
    }

    /// The digest a held request is bound to (``Approval/egressDigest(method:api:pathAndQuery:bodySHA256:grantID:)``).
    static func approvalDigest(_ request: HTTPEgressRequest, api: String, rest: String, bodyDigest: String?, grant: TaskGrant) -> String {
        Approval.egressDigest(
            method: request.method, api: api, pathAndQuery: rest + (request.query.map { "?" + $0 } ?? ""),
            bodySHA256: bodyDigest ?? hexString(SHA256.hash(data: [UInt8]())), grantID: grant.id)
    }

    private func unavailable(_ status: Int, _ message: String, record: DecisionRecord) -> HTTPEgressResponse {
        Self.json(
            status,
            [
                "error": .string("unavailable"), "reason": .string(DenialReason.upstreamUnavailable), "message": .string(message),
                "decision_id": .string(record.decisionID ?? record.id),
            ])
    }

    static func json(_ status: Int, _ members: [String: JSONValue]) -> HTTPEgressResponse {
        HTTPEgressResponse(status: status, headers: [("Content-Type", "application/json")], body: JSONValue.object(members).serializedBytes)
    }

    /// Records the request (or its outcome), then answers with the decision's ID in
    /// ``decisionHeader``. A record that cannot be stored turns the answer into a 500: nothing is
    /// passed back that is not on record.
    private func finish(_ record: DecisionRecord, started: ContinuousClock.Instant, _ response: HTTPEgressResponse) async -> HTTPEgressResponse {
        guard await self.store(record, started: started) else {
            return Self.json(
                500, ["error": .string("server_error"), "message": .string("the request could not be recorded, so its answer is withheld")])
        }
        var response = response
        response.headers.append((Self.decisionHeader, record.decisionID ?? record.id))
        return response
    }

    private func store(_ record: DecisionRecord, started: ContinuousClock.Instant) async -> Bool {
        await self.gateway.store(record, started: started, what: "HTTP egress")
    }
}
