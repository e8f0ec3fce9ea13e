import HTTPTypes
import Hummingbird
import LatchCore
import LatchGrants
import LatchIdentity
import Logging
import NIOCore

/// The authorization server's HTTP endpoints (all but metadata are `POST` with a form body):
///
/// | path | what |
/// |---|---|
/// | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata |
/// | `/token` | RFC 8693 token exchange with a DPoP proof (RFC 9449): a JWT-SVID for a task grant, a grant for a delegated one |
/// | `/revoke` | RFC 7009: revokes the grant in `token` and every grant delegated from it |
/// | `/introspect` | RFC 7662, for a caller with `Authorization: Bearer <JWT-SVID>`; grants the policy does not let it see are inactive |
/// | `/complete` | task completion (Latch's): `Authorization: DPoP <grant>` and its proof; revokes the grant and its descendants |
///
/// Errors are RFC 6749 §5.2 JSON (`error`, `error_description`); nothing issued is cacheable.
enum GrantHTTPRoutes {
    static let maxBodySize = 64 * 1024
    static let dpopHeader = HTTPField.Name("DPoP")!

    static func add(
        to router: Router<BasicRequestContext>, authority: GrantAuthority, issuer: @escaping @Sendable () -> String, metrics: GrantMetrics, logger: Logger
    ) {
        router.get("/.well-known/oauth-authorization-server") { _, _ in
            let issuer = issuer()
            let metadata = JSONValue.object([
                "issuer": .string(issuer),
                "token_endpoint": .string(issuer + "/token"),
                "revocation_endpoint": .string(issuer + "/revoke"),
                "introspection_endpoint": .string(issuer + "/introspect"),
                "latch_task_completion_endpoint": .string(issuer + "/complete"),
                "jwks_uri": .string(issuer + "/keys"),
                "grant_types_supported": .array([.string(TokenExchangeRequest.grantType)]),
                "token_endpoint_auth_methods_supported": .array([.string("none")]),
                "revocation_endpoint_auth_methods_supported": .array([.string("none")]),
                "dpop_signing_alg_values_supported": .array([.string("ES256")]),
                "response_types_supported": .array([]),
            ])
            return Self.json(.ok, metadata, cache: "public, max-age=300")
        }

        router.post("/token") { request, _ in
            guard let form = try await Self.form(request) else { return Self.oauthError(.invalidRequest, "the body must be a form of at most 64 KiB") }
            let proofs = request.headers[values: Self.dpopHeader]
            guard proofs.count <= 1 else { return Self.oauthError(.invalidDPoPProof, "more than one DPoP header") }
            do throws(TokenExchangeError) {
                let exchange = try TokenExchangeRequest(form: form)
                let issued = try await authority.exchange(
                    exchange, proof: proofs.first, proofTarget: DPoPRequest(method: "POST", uri: issuer() + "/token"))
                let grant = issued.grant
                metrics.countIssued(grant)
                logger.info(
                    "grant issued",
                    metadata: [
                        "grant.id": "\(grant.id)", "task.id": "\(grant.taskID)", "grant.subject": "\(grant.subject)",
                        "grant.holder": "\(grant.holder)", "grant.depth": "\(grant.depth)",
                    ])
                return Self.json(
                    .ok,
                    .object([
                        "access_token": .string(issued.token),
                        "issued_token_type": .string(TokenExchangeRequest.accessTokenType),
                        "token_type": .string("DPoP"),
                        "expires_in": .int((grant.expiresAt - authority.clock.now().milliseconds) / 1000),
                        "scope": .string(ScopeSyntax.render(grant.scope)),
                        "task_id": .string(grant.taskID),
                    ]))
            } catch {
                if error.code == .serverError {
                    logger.error("token exchange failed", metadata: ["error": "\(error.description)"])
                } else {
                    logger.notice("token exchange refused", metadata: ["error": "\(error.code.rawValue)", "reason": "\(error.description)"])
                }
                return Self.oauthError(error.code, error.description)
            }
        }

        router.post("/revoke") { request, _ in
            guard let form = try await Self.form(request), let token = Self.single("token", in: form) else {
                return Self.oauthError(.invalidRequest, "a form with one token parameter is required")
            }
            do {
                if let revocation = try await authority.revoke(token: token) {
                    metrics.countRevoked()
                    logger.notice("grant revoked", metadata: ["grant.id": "\(revocation.grantID)", "reason": "\(revocation.reason.rawValue)"])
                }
            } catch {
                logger.error("revocation could not be stored", metadata: ["error": "\(error)"])
                return Self.oauthError(.serverError, "the revocation is in force on this node but could not be stored; retry")
            }
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }

        router.post("/complete") { request, _ in
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("DPoP "),
                let proof = request.headers[Self.dpopHeader], request.headers[values: Self.dpopHeader].count == 1
            else {
                return Self.unauthorized(scheme: "DPoP", "Authorization: DPoP <grant> and one DPoP proof are required")
            }
            let grant: TaskGrant
            do throws(LatchError) {
                grant = try authority.holderGrant(
                    token: String(authorization.dropFirst(5)), proof: proof, request: DPoPRequest(method: "POST", uri: issuer() + "/complete"))
            } catch {
                return Self.unauthorized(scheme: "DPoP", error.message)
            }
            do {
                _ = try await authority.revoke(grantID: grant.id, expiresAt: grant.expiresAt, reason: .completed)
            } catch {
                logger.error("completion could not be stored", metadata: ["error": "\(error)"])
                return Self.oauthError(.serverError, "the grant is revoked on this node but the completion could not be stored; retry")
            }
            metrics.countCompleted()
            logger.notice("task completed", metadata: ["grant.id": "\(grant.id)", "task.id": "\(grant.taskID)"])
            return Self.json(.ok, .object(["grant_id": .string(grant.id), "task_id": .string(grant.taskID), "status": .string("completed")]))
        }

        router.post("/introspect") { request, _ in
            guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") else {
                return Self.unauthorized(scheme: "Bearer", "Authorization: Bearer <JWT-SVID> is required")
            }
            guard let form = try await Self.form(request), let token = Self.single("token", in: form) else {
                return Self.oauthError(.invalidRequest, "a form with one token parameter is required")
            }
            let result: Introspection
            do throws(LatchError) { result = try authority.introspect(token: token, callerToken: String(authorization.dropFirst(7))) } catch {
                return Self.unauthorized(scheme: "Bearer", error.message)
            }
            guard case .active(let grant) = result else { return Self.json(.ok, .object(["active": .bool(false)])) }
            var claims = grant.claims(issuer: authority.keys?.issuer ?? issuer()).objectValue ?? [:]
            claims["active"] = .bool(true)
            claims["token_type"] = .string("DPoP")
            claims["scope"] = .string(ScopeSyntax.render(grant.scope))
            return Self.json(.ok, .object(claims))
        }
    }

    /// The decoded form body, or nil when it is too large or malformed.
    private static func form(_ request: Request) async throws -> [(name: String, value: String)]? {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Self.maxBodySize) else { return nil }
        return FormBody.parse(Array(buffer.readableBytesView))
    }

    private static func single(_ name: String, in form: [(name: String, value: String)]) -> String? {
        let values = form.filter { $0.name == name }
        guard values.count == 1, !values[0].value.isEmpty else { return nil }
        return values[0].value
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, cache: String = "no-store") -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: cache],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes)))
    }

    /// RFC 6749 §5.2: 400 with `error` and `error_description`; a server error is 503.
    static func oauthError(_ code: OAuthError, _ description: String) -> Response {
        Self.json(
            code == .serverError ? .serviceUnavailable : .badRequest,
            .object(["error": .string(code.rawValue), "error_description": .string(description)]))
    }

    /// 401 with a `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9449 §7.1).
    static func unauthorized(scheme: String, _ description: String) -> Response {
        var response = Self.json(.unauthorized, .object(["error": .string("invalid_token"), "error_description": .string(description)]))
        let quoted = String(description.map { $0 == "\"" || $0 == "\\" ? "'" : $0 })
        response.headers[.wwwAuthenticate] =
            scheme == "DPoP" ? "DPoP error=\"invalid_token\", error_description=\"\(quoted)\", algs=\"ES256\"" : "Bearer error=\"invalid_token\""
        return response
    }
}
