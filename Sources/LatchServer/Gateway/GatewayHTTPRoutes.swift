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
