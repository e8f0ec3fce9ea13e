import Crypto
public import LatchCore
import LatchIdentity

/// What an accepted DPoP proof (RFC 9449) establishes: the client holds the private key whose
/// RFC 7638 thumbprint is `keyThumbprint`, and signed this request (`method`, `uri`) at `issuedAt`.
public struct VerifiedDPoPProof: Hashable, Sendable {
    /// `jkt`: base64url SHA-256 of the proof key's canonical JWK. A grant bound to the key carries
    /// the same value in `cnf.jkt`.
    public let keyThumbprint: String
    public let jti: String
    /// Seconds since the Unix epoch.
    public let issuedAt: Int64
}

/// The request a DPoP proof must match.
public struct DPoPRequest: Sendable {
    /// The HTTP method, e.g. `POST`.
    public var method: String
    /// The request URI as the server sees it; query and fragment are ignored, as RFC 9449 §4.3 says.
    public var uri: String
    /// The SHA-256 of the access token sent with the proof, when there is one: the proof's `ath`
    /// must be its base64url, and `boundThumbprint` (the token's `cnf.jkt`) the proof key's
    /// thumbprint. A digest rather than the token, so a caller that hashed the token already
    /// (the grant verifier's cache key) does not hash it twice.
    public var accessTokenHash: [UInt8]?
    public var boundThumbprint: String?

    public init(method: String, uri: String, accessToken: Redacted<String>? = nil, boundThumbprint: String? = nil) {
        self.method = method
        self.uri = uri
        self.accessTokenHash = accessToken.map { Array(SHA256.hash(data: Array($0.unredacted.utf8))) }
        self.boundThumbprint = boundThumbprint
    }
}

extension LatchError.Code {
    /// A DPoP proof that fails a check of RFC 9449 §4.3 (the message names the check).
    public static let invalidDPoPProof = Self("invalidDPoPProof")
    /// A DPoP proof whose `jti` was already seen within the window.
    public static let replayedDPoPProof = Self("replayedDPoPProof")
}
