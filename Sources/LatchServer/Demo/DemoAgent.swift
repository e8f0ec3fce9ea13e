import AsyncHTTPClient
import Crypto
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchCore
import LatchGateway
import LatchIdentity
import LatchWorkloadProto
import NIOCore
import NIOHTTP1

/// `latch demo`'s scripted agent: an ordinary client of Latch's public interfaces, as any agent
/// would be. It gets a JWT-SVID from the Workload API (gRPC over the unix socket), trades it at
/// the token endpoint (RFC 8693) for a task grant bound to its own P-256 key (DPoP, RFC 9449), and
/// speaks MCP 2026-07-28 to the gateway with the grant and a fresh proof on every request.
///
/// - Important: the grant and the JWT-SVID stay in this value; nothing here prints or logs them.
final class DemoAgent: Sendable {
    /// What a request to the MCP endpoint came back with.
    struct MCPAnswer: Sendable {
        var status: Int
        /// The JSON-RPC `result`, when there is one.
        var result: JSONValue?
        /// The JSON-RPC `error`, when there is one.
        var error: JSONValue?
        var wwwAuthenticate: String?
    }

    /// A task grant as the token endpoint issued it.
    struct Grant: Sendable {
        let token: Redacted<String>
        let taskID: String
        let scope: String
        let expiresIn: Int64
    }

    /// The endpoints the authorization server's RFC 8414 metadata names.
    struct Endpoints: Sendable {
        let token: String
        let completion: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let spiffeID: String
    let issuer: String
    let socket: String
    let clock: any WallClock
    private let key = P256.Signing.PrivateKey()
    private let client: HTTPClient
    private let header: JSONValue

    static let protocolVersion = MCPGateway.modernVersion
    static let timeout = TimeAmount.seconds(30)

    init(spiffeID: String, issuer: String, socket: String, clock: any WallClock = SystemWallClock(), client: HTTPClient = .shared) {
        self.spiffeID = spiffeID
        self.issuer = issuer
        self.socket = socket
        self.clock = clock
        self.client = client
        let point = Array(self.key.publicKey.x963Representation)
        self.header = .object([
            "typ": .string("dpop+jwt"), "alg": .string("ES256"),
            "jwk": .object([
                "kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(point[1..<33])),
                "y": .string(Base64URL.encode(point[33..<65])),
            ]),
        ])
    }

    /// The RFC 7638 thumbprint of the agent's DPoP key (what its grants carry as `cnf.jkt`).
    var keyThumbprint: String { CAKey.thumbprint(of: self.key.publicKey) }

    // MARK: Identity and grant

    /// A JWT-SVID for this agent's SPIFFE ID, for `audience`, from the Workload API.
    func fetchJWTSVID(audience: String) async throws -> Redacted<String> {
        var request = Workload_JWTSVIDRequest()
        request.audience = [audience]
        request.spiffeID = self.spiffeID
        let message = request
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        let callOptions = options
        let response = try await withGRPCClient(
            transport: .http2NIOPosix(target: .unixDomainSocket(path: self.socket), transportSecurity: .plaintext)
        ) { client in
            try await Workload_SpiffeWorkloadAPI.Client(wrapping: client).fetchJWTSVID(
                message, metadata: ["workload.spiffe.io": "true"], options: callOptions)
        }
        guard let svid = response.svids.first(where: { $0.spiffeID == self.spiffeID }) else {
            throw Failure(description: "the Workload API issued no JWT-SVID for \(self.spiffeID)")
        }
        return Redacted(svid.svid)
    }

    /// The token and completion endpoints, from the issuer's RFC 8414 metadata.
    func discover() async throws -> Endpoints {
        var request = HTTPClientRequest(url: self.issuer + "/.well-known/oauth-authorization-server")
        request.method = .GET
        let (status, body) = try await self.send(request)
        guard status == 200, let token = body?["token_endpoint"]?.stringValue,
            let completion = body?["latch_task_completion_endpoint"]?.stringValue
        else {
            throw Failure(description: "the authorization server metadata could not be read (HTTP \(status))")
        }
        return Endpoints(token: token, completion: completion)
    }

    /// RFC 8693: the JWT-SVID for a task grant bound to this agent's key. An OAuth error is
    /// returned as `.failure("error: description")`.
    func requestGrant(at endpoint: String, svid: Redacted<String>, scope: String, intent: String) async throws -> Result<Grant, Failure> {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"), ("subject_token", svid.unredacted),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"), ("scope", scope), ("intent", intent),
            ("audience", "latch-gateway"),
        ]
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "DPoP", value: try self.proof(method: "POST", url: endpoint, token: nil))
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(form)))
        let (status, body) = try await self.send(request)
        guard status == 200, let token = body?["access_token"]?.stringValue, let task = body?["task_id"]?.stringValue else {
            let error = body?["error"]?.stringValue ?? "HTTP \(status)"
            return .failure(Failure(description: "\(error): \(body?["error_description"]?.stringValue ?? "no description")"))
        }
        return .success(
            Grant(token: Redacted(token), taskID: task, scope: body?["scope"]?.stringValue ?? scope, expiresIn: body?["expires_in"]?.intValue ?? 0))
    }

    /// Completes the task (Latch's completion endpoint): the grant is revoked.
    func complete(at endpoint: String, grant: Grant) async throws -> (status: Int, body: JSONValue?) {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "DPoP " + grant.token.unredacted)
        request.headers.add(name: "DPoP", value: try self.proof(method: "POST", url: endpoint, token: grant.token.unredacted))
        return try await self.send(request)
    }

    // MARK: MCP

    /// One MCP 2026-07-28 request to the gateway: `method` with `params`, the `_meta` envelope
    /// added, `Mcp-Method` (and for `tools/call` `Mcp-Name`) set, the grant and a fresh proof.
    func mcp(_ method: String, params: [String: JSONValue] = [:], id: Int64, grant: Grant) async throws -> MCPAnswer {
        let url = self.issuer + MCPGateway.path
        var params = params
        var meta = params["_meta"]?.objectValue ?? [:]
        meta["io.modelcontextprotocol/protocolVersion"] = .string(Self.protocolVersion)
        meta["io.modelcontextprotocol/clientInfo"] = .object(["name": .string("latch-demo-agent"), "version": .string("1.0.0")])
        meta["io.modelcontextprotocol/clientCapabilities"] = .object([:])
        params["_meta"] = .object(meta)
        let body = JSONValue.object(["jsonrpc": .string("2.0"), "id": .int(id), "method": .string(method), "params": .object(params)])

        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        request.headers.add(name: "MCP-Protocol-Version", value: Self.protocolVersion)
        request.headers.add(name: "Mcp-Method", value: method)
        if method == "tools/call", let name = params["name"]?.stringValue { request.headers.add(name: "Mcp-Name", value: name) }
        request.headers.add(name: "Authorization", value: "DPoP " + grant.token.unredacted)
        request.headers.add(name: "DPoP", value: try self.proof(method: "POST", url: url, token: grant.token.unredacted))
        request.body = .bytes(ByteBuffer(bytes: body.serializedBytes))
        let response = try await self.client.execute(request, timeout: Self.timeout)
        let bytes = try await response.body.collect(upTo: 4 << 20)
        let answer = JSONValue(parsing: Array(bytes.readableBytesView))
        return MCPAnswer(
            status: Int(response.status.code), result: answer?["result"], error: answer?["error"],
            wwwAuthenticate: response.headers.first(name: "WWW-Authenticate"))
    }

    // MARK: Helpers

    /// A DPoP proof (RFC 9449 §4.2) by the agent's key for `method url`; with `token`, bound to
    /// it by `ath`.
    func proof(method: String, url: String, token: String?) throws -> String {
        var claims: [String: JSONValue] = [
            "jti": .string(hexString((0..<16).map { _ in UInt8.random(in: .min ... .max) })), "htm": .string(method), "htu": .string(url),
            "iat": .int(self.clock.now().seconds),
        ]
        if let token { claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8))))) }
        let input = Base64URL.encode(self.header.serializedBytes) + "." + Base64URL.encode(JSONValue.object(claims).serializedBytes)
        let signature = try self.key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    private func send(_ request: HTTPClientRequest) async throws -> (status: Int, body: JSONValue?) {
        let response = try await self.client.execute(request, timeout: Self.timeout)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), JSONValue(parsing: Array(bytes.readableBytesView)))
    }

    /// `application/x-www-form-urlencoded`: every byte but unreserved characters percent-encoded.
    static func formEncoded(_ fields: [(String, String)]) -> String {
        func encode(_ text: String) -> String {
            var out = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                    UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let hex = Array("0123456789ABCDEF")
                    out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
                }
            }
            return out
        }
        return fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }
}
