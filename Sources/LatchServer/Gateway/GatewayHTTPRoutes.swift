import HTTPTypes
import Hummingbird
import LatchGateway
import LatchIdentity
import NIOCore

/// The gateway's HTTP endpoints:
///
/// | path | what |
/// |---|---|
/// | `POST /mcp` | MCP Streamable HTTP (2025-11-25 and 2026-07-28), with `Authorization: DPoP <grant>` and a proof |
/// | `DELETE /mcp` | ends a 2025-11-25 session |
/// | `GET /mcp` | 405: Latch opens no server-to-client stream |
/// | `GET /.well-known/oauth-protected-resource/mcp` (and without `/mcp`) | RFC 9728 metadata |
/// | `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE /egress/<api>/…` | HTTP egress to a configured API (``HTTPEgress``) |
/// | `GET /.well-known/oauth-protected-resource/egress/<api>` | its RFC 9728 metadata |
enum GatewayHTTPRoutes {
    /// The largest MCP request body accepted.
    static let maxBodySize = 1024 * 1024

    static func add(to router: Router<BasicRequestContext>, gateway: MCPGateway) {
        let metadata: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            GrantHTTPRoutes.json(.ok, gateway.resourceMetadata, cache: "public, max-age=300")
        }
        router.get(RouterPath(MCPGateway.metadataPath), use: metadata)
        router.get("/.well-known/oauth-protected-resource", use: metadata)
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            var headers: [String: [String]] = [:]
            headers.reserveCapacity(request.headers.count)
            for field in request.headers { headers[field.name.canonicalName, default: []].append(field.value) }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: Self.maxBodySize) } catch {
                return Self.response(
                    MCPHTTPResponse(
                        status: 413, headers: [("Content-Type", "application/json")],
                        body: JSONRPC.error(JSONRPC.Failure(code: JSONRPC.invalidRequest, message: "the body is larger than \(Self.maxBodySize / 1024) KiB"))))
            }
            let answer = await gateway.handle(
                MCPHTTPRequest(method: request.method.rawValue, headers: headers, body: Array(body.readableBytesView)))
            return Self.response(answer)
        }
        router.post(RouterPath(MCPGateway.path), use: handler)
        router.delete(RouterPath(MCPGateway.path), use: handler)
        router.get(RouterPath(MCPGateway.path), use: handler)
    }

    static func add(to router: Router<BasicRequestContext>, egress: HTTPEgress) {
        router.get("/.well-known/oauth-protected-resource/egress/:api") { _, context in
            let api = try context.parameters.require("api")
            guard egress[api: api] != nil else { return GrantHTTPRoutes.json(.notFound, .object(["error": .string("not_found")])) }
            return GrantHTTPRoutes.json(.ok, egress.resourceMetadata(api: api), cache: "public, max-age=300")
        }
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
            // An oversized body is not read: the egress refuses it, after authenticating, on record.
            let body = try? await request.collectBody(upTo: HTTPEgress.maxRequestBytes)
            let answer = await egress.handle(
                HTTPEgressRequest(
                    method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers,
                    body: body.map { Array($0.readableBytesView) }))
            return Self.response(answer)
        }
        for path in ["/egress/:api", "/egress/:api/**"] {
            // OPTIONS too, so that it gets the egress's own 405 naming what is forwarded.
            for method in [HTTPRequest.Method.get, .head, .post, .put, .patch, .delete, .options] {
                router.on(RouterPath(path), method: method, use: handler)
            }
        }
    }

    static func response(_ answer: MCPHTTPResponse) -> Response {
        var fields = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
