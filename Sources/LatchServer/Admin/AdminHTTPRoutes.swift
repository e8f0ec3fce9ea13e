import HTTPTypes
import Hummingbird
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import Logging
import NIOCore

/// The admin API and the approval page, for operators (`latch operator add NAME`):
///
/// | path | what |
/// |---|---|
/// | `GET /admin/` | the approval page (``AdminPage``) |
/// | `GET /admin/app.js` | its script |
/// | `GET /admin/approvals[?status=&task=]` | approvals, newest first (at most 100), opened |
/// | `GET /admin/approvals/{id}` | one approval, opened |
/// | `POST /admin/approvals/{id}/approve`, `…/deny` | one decision; JSON body `{"note": "…"}` (optional, empty body allowed) |
///
/// The API needs `Authorization: Bearer <operator token>`: 401 without or with a token no
/// operator holds. Who decides is the authenticated operator's name, never anything in the
/// request. 404 for an unknown approval; 409 when it was already decided, used or expired; 400
/// for a body that is not a JSON object with an optional string `note`, or larger than
/// ``maxBodyBytes``. Decisions go through ``ApprovalDecisions`` (as the CLI's), so each is recorded
/// in the ledger. Every answer carries `Content-Security-Policy: default-src 'self';
/// frame-ancestors 'none'`, `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
enum AdminHTTPRoutes {
    /// The largest decision body read (a note is at most 4096 bytes, escaped).
    static let maxBodyBytes = 32 * 1024
    /// At most this many approvals in a listing.
    static let listLimit = 100

    static func add(to router: Router<BasicRequestContext>, store: any LatchStore, ledgerKey: LedgerKey, clock: any WallClock, logger: Logger) {
        let privacy = ApprovalPrivacy(ledgerKey: ledgerKey)
        router.get("/admin") { _, _ in Self.page(AdminPage.html, type: "text/html; charset=utf-8") }
        router.get("/admin/app.js") { _, _ in Self.page(AdminPage.script, type: "text/javascript; charset=utf-8") }
        router.get("/admin/approvals") { request, _ in
            guard await Self.authenticate(request, store: store, logger: logger) != nil else { return Self.unauthorized() }
            var status: Approval.Status?
            if let text = request.uri.queryParameters["status"].map(String.init), !text.isEmpty {
                guard let parsed = Approval.Status(rawValue: text) else {
                    return Self.error(.badRequest, "invalid_request", "status must be one of pending, approved, denied, consumed, expired")
                }
                status = parsed
            }
            let task = request.uri.queryParameters["task"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            do {
                let approvals = try await store.approvals(taskID: task, status: status, limit: Self.listLimit)
                let now = clock.now().milliseconds
                return Self.json(.ok, .array(approvals.map { Self.shown($0, privacy: privacy, now: now, logger: logger) }))
            } catch {
                logger.error("approvals not listed", metadata: [LogKey.error: "\(error)"])
                return Self.error(.serviceUnavailable, "unavailable", "the approvals could not be read")
            }
        }
        router.get("/admin/approvals/:id") { request, context in
            guard await Self.authenticate(request, store: store, logger: logger) != nil else { return Self.unauthorized() }
            let id = try context.parameters.require("id")
            do {
                guard Approval.isName(id), let approval = try await store.approval(id: id) else {
                    return Self.error(.notFound, "not_found", "no approval has that ID")
                }
                return Self.json(.ok, Self.shown(approval, privacy: privacy, now: clock.now().milliseconds, logger: logger))
            } catch {
                logger.error("approval not read", metadata: [LogKey.error: "\(error)"])
                return Self.error(.serviceUnavailable, "unavailable", "the approval could not be read")
            }
        }
        router.post("/admin/approvals/:id/:verb") { request, context in
            var request = request
            guard let name = await Self.authenticate(request, store: store, logger: logger) else { return Self.unauthorized() }
            let id = try context.parameters.require("id")
            let verb = try context.parameters.require("verb")
            guard verb == "approve" || verb == "deny" else { return Self.error(.notFound, "not_found", "POST …/approve or …/deny") }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: Self.maxBodyBytes) } catch {
                return Self.error(.badRequest, "invalid_request", "the body is larger than \(Self.maxBodyBytes / 1024) KiB")
            }
            var note: String?
            if body.readableBytes > 0 {
                guard case .object(let object)? = JSONValue(parsing: Array(body.readableBytesView)),
                    object.keys.allSatisfy({ $0 == "note" })
                else { return Self.error(.badRequest, "invalid_request", "the body must be a JSON object with an optional string note") }
                switch object["note"] {
                case nil, .null?: break
                case .string(let text)?: note = text.isEmpty ? nil : text
                default: return Self.error(.badRequest, "invalid_request", "note must be a string")
                }
            }
            do { try Approval.validateDecider(name, note: note) } catch {
                return Self.error(.badRequest, "invalid_request", (error as? LatchError)?.message ?? "invalid note")
            }
            guard Approval.isName(id) else { return Self.error(.notFound, "not_found", "no approval has that ID") }
            let now = clock.now().milliseconds
            let outcome: ApprovalDecisionOutcome
            do {
                outcome = try await ApprovalDecisions.decide(
                    store: store, id: id, approve: verb == "approve", by: name, note: note, now: now, ledgerKey: ledgerKey)
            } catch {
                logger.error("approval decision not stored or not recorded", metadata: [LogKey.approvalID: "\(id)", LogKey.error: "\(error)"])
                return Self.error(.serviceUnavailable, "unavailable", "the decision could not be stored or recorded; see latch approvals show")
            }
            switch outcome {
            case .decided(let approval):
                logger.info(verb == "approve" ? "approval approved" : "approval denied", metadata: [LogKey.approvalID: "\(approval.id)"])
                return Self.json(.ok, Self.shown(approval, privacy: privacy, now: now, logger: logger))
            case .refused(let approval):
                let status = approval.effectiveStatus(now: now)
                let message: String
                switch status {
                case .approved: message = "the approval was already approved by \(approval.decidedBy ?? "?")"
                case .denied: message = "the approval was already denied by \(approval.decidedBy ?? "?")"
                case .consumed: message = "the approval was already approved and used"
                case .expired: message = "the approval expired before anyone decided"
                case .pending: message = "the approval could not be decided"
                }
                return Self.json(
                    .conflict,
                    .object([
                        "error": .string(status == .expired ? "expired" : "already_decided"), "message": .string(message),
                        "status": .string(status.rawValue),
                    ]))
            case .notFound:
                return Self.error(.notFound, "not_found", "no approval has that ID")
            }
        }
    }

    /// The operator `Authorization: Bearer <token>` names, or nil.
    static func authenticate(_ request: Request, store: any LatchStore, logger: Logger) async -> String? {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let token = String(header.dropFirst(7)).trimmingSpaces
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        do {
            return Operator.authenticate(token, among: try await store.operators())?.name
        } catch {
            logger.error("operators not read", metadata: [LogKey.error: "\(error)"])
            return nil
        }
    }

    static func shown(_ approval: Approval, privacy: ApprovalPrivacy, now: Int64, logger: Logger) -> JSONValue {
        do {
            return ApprovalJSON.json(approval, now: now, opened: try ApprovalJSON.Opened(approval, privacy: privacy))
        } catch {
            logger.warning("approval contents do not open", metadata: [LogKey.approvalID: "\(approval.id)"])
            return ApprovalJSON.json(approval, now: now)
        }
    }

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        .cacheControl: "no-store", HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    static func page(_ text: String, type: String) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes)))
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        Self.json(status, .object(["error": .string(code), "message": .string(message)]))
    }

    static func unauthorized() -> Response {
        var response = Self.error(.unauthorized, "unauthorized", "an operator's bearer token is required (latch operator add NAME)")
        response.headers[.wwwAuthenticate] = "Bearer realm=\"latch-admin\""
        return response
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
