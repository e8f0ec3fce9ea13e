import LatchCore
public import LatchGrants
public import Logging

/// Authenticates one request to a gateway endpoint (`/mcp`, `/egress/…`): one
/// `Authorization: DPoP <grant>` header whose grant names `audience`, and one `DPoP` proof
/// (RFC 9449) for this request's method and URL, signed by the key the grant is bound to, not seen
/// before; the grant and its ancestors are unrevoked. One code path for every endpoint, so they
/// cannot drift apart.
public struct GrantAuthenticator: Sendable {
    /// Why a request was refused: the HTTP status (401, or 503 before the grant keys exist), the
    /// RFC 6750/9449 error code for `WWW-Authenticate` (nil when no credential was offered at
    /// all), and a sentence for people (never the token or proof).
    public struct Refusal: Hashable, Sendable, Error {
        public var status: Int
        public var error: String?
        public var description: String
    }

    public let authority: GrantAuthority
    /// The audience a grant must name to be accepted.
    public let audience: String
    let logger: Logger

    public init(authority: GrantAuthority, audience: String, logger: Logger) {
        self.authority = authority
        self.audience = audience
        self.logger = logger
    }

    /// The grant of the request, or why it is refused.
    ///
    /// - Parameters:
    ///   - method: the request's method, which the proof's `htm` must equal;
    ///   - uri: the request's public URL (Latch's issuer and the path, no query), which the
    ///     proof's `htu` must equal;
    ///   - authorization: every `Authorization` header value the request carried;
    ///   - proof: every `DPoP` header value.
    public func authenticate(method: String, uri: String, authorization: [String], proof: [String], now: Int64) -> Result<TaskGrant, Refusal> {
        guard let header = authorization.first else {
            return .failure(Refusal(status: 401, error: nil, description: "a task grant is required: Authorization: DPoP <grant> with a DPoP proof"))
        }
        // Byte-wise: counting or lowercasing the whole header would walk every character of the grant.
        guard authorization.count == 1, header.utf8.count > 5,
            header.utf8.prefix(5).lazy.map({ (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }).elementsEqual("dpop ".utf8)
        else {
            return .failure(
                Refusal(status: 401, error: "invalid_token", description: "grants are DPoP-bound: use one Authorization header with the DPoP scheme"))
        }
        guard proof.count == 1, let proof = proof.first else {
            return .failure(
                Refusal(status: 401, error: "invalid_dpop_proof", description: "one DPoP header with a proof for this request is required"))
        }
        guard let verifier = self.authority.keys?.verifier else {
            return .failure(Refusal(status: 503, error: nil, description: "the gateway has no grant keys yet"))
        }
        let token = header.dropFirst(5).trimmingWhitespace
        do {
            let target = DPoPRequest(method: method, uri: uri, accessToken: Redacted(token))
            return .success(try verifier.verify(token, audience: self.audience, proof: proof, request: target, now: now))
        } catch {
            let dpop = error.code == .invalidDPoPProof || error.code == .replayedDPoPProof
            self.logger.notice("gateway request refused", metadata: ["reason": "\(error.message)"])
            return .failure(Refusal(status: 401, error: dpop ? "invalid_dpop_proof" : "invalid_token", description: error.message))
        }
    }

    /// The `WWW-Authenticate` value of a 401 (RFC 9449 §7.1), naming the endpoint's RFC 9728
    /// protected-resource metadata.
    public static func challenge(_ refusal: Refusal, resourceMetadataURL: String) -> String {
        let clean = String(
            refusal.description.unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" }.prefix(200).map(Character.init))
        var challenge = "DPoP algs=\"ES256\", resource_metadata=\"\(resourceMetadataURL)\""
        if let error = refusal.error { challenge += ", error=\"\(error)\", error_description=\"\(clean)\"" }
        return challenge
    }
}
