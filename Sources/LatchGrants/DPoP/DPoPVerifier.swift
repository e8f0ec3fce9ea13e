import Crypto
public import LatchCore
import LatchIdentity
import Synchronization

/// Verifies DPoP proofs (RFC 9449 §4.3), ES256 only.
///
/// Checks, in order, each failure a `LatchError` naming the check: size and JWS form; header `typ`
/// is `dpop+jwt`; `alg` is ES256 (`none`, HMAC, EdDSA and RSA get their own codes); `jwk` is a
/// P-256 public key with no private part (`d`); the signature verifies with that key; claims `jti`
/// (non-empty, at most 256 bytes), `htm` (equal to the method), `htu` (equal to the URI without
/// query and fragment, scheme and host compared case-insensitively), `iat` within
/// [now - `maxAge` - skew, now + skew]; with an access token, `ath` equals its base64url SHA-256
/// and the key's thumbprint equals the token's `cnf.jkt`; and last the `jti` is new to the
/// ``DPoPReplayCache`` (`replayedDPoPProof`). Nonces (§8) are not used.
///
/// - Important: a proof is recorded in the replay cache only after every other check passed, so a
///   forged proof cannot burn a legitimate `jti`.
public struct DPoPVerifier: Sendable {
    public var replayCache: DPoPReplayCache
    /// How old a proof may be, milliseconds (default 60 s).
    public var maxAge: Int64
    /// Clock skew allowed either way, milliseconds (default 5 s).
    public var clockSkew: Int64
    /// Largest proof accepted, bytes (default 8 KiB).
    public var maxProofSize: Int
    let keyCache = DPoPKeyCache()

    public init(replayCache: DPoPReplayCache, maxAge: Int64 = 60_000, clockSkew: Int64 = 5_000, maxProofSize: Int = 8 * 1024) {
        self.replayCache = replayCache
        self.maxAge = maxAge
        self.clockSkew = clockSkew
        self.maxProofSize = maxProofSize
    }

    /// Verifies `proof` for `request` at `now` (milliseconds since the Unix epoch).
    public func verify(_ proof: String, for request: DPoPRequest, now: Int64) throws(LatchError) -> VerifiedDPoPProof {
        let parts = try JWS.split(proof, maxSize: self.maxProofSize)
        let (key, thumbprint) = try self.headerKey(parts.header)
        try JWS.verifyES256(parts: parts, key: key)
        let claims = try JWS.decodeJSON(parts.payload, what: "claims")

        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty, jti.utf8.count <= 256 else {
            throw Self.invalid("jti must be a non-empty string of at most 256 bytes")
        }
        guard let htm = claims["htm"]?.stringValue, htm == request.method else { throw Self.invalid("htm does not match the request method") }
        guard let htu = claims["htu"]?.stringValue, Self.sameURI(htu, request.uri) else {
            throw Self.invalid("htu does not match the request URI")
        }
        guard let iat = claims["iat"]?.intValue else { throw Self.invalid("iat must be a number of seconds") }
        if iat > UnixTime(milliseconds: now).adding(milliseconds: self.clockSkew).seconds {
            throw Self.invalid("iat is in the future")
        }
        if iat < UnixTime(milliseconds: now).adding(milliseconds: -(self.maxAge + self.clockSkew)).seconds {
            throw Self.invalid("the proof is too old (iat)")
        }
        if let tokenHash = request.accessTokenHash {
            guard let ath = claims["ath"]?.stringValue.flatMap({ Base64URL.decode(Array($0.utf8)) }), constantTimeEquals(ath, tokenHash) else {
                throw Self.invalid("ath does not match the access token")
            }
            guard let bound = request.boundThumbprint, constantTimeEquals(bound.utf8, thumbprint.utf8) else {
                throw Self.invalid("the proof key is not the key the access token is bound to (cnf.jkt)")
            }
        } else if claims["ath"] != nil {
            throw Self.invalid("ath without an access token")
        }
        // Keep the jti until the proof could no longer pass the iat check.
        let keepUntil = (iat + 1) * 1000 + self.maxAge + self.clockSkew
        guard self.replayCache.insert(thumbprint + "|" + jti, until: keepUntil, now: now) else {
            throw LatchError(.replayedDPoPProof, "this DPoP proof (jti) was already used")
        }
        return VerifiedDPoPProof(keyThumbprint: thumbprint, jti: jti, issuedAt: iat)
    }

    /// Checks the header (`typ`, `alg`, `jwk`) and returns its key and the key's RFC 7638
    /// thumbprint. Accepted headers are remembered by their encoded bytes: an agent sends the same
    /// header with every proof, the same bytes get the same verdict, and this skips the JSON and
    /// the point import (which validates the point, at about the cost of a signature check).
    func headerKey(_ encoded: ArraySlice<UInt8>) throws(LatchError) -> (P256.Signing.PublicKey, String) {
        if let known = self.keyCache.key(for: encoded) { return known }
        let header = try JWS.decodeJSON(encoded, what: "header")
        guard header["typ"]?.stringValue == "dpop+jwt" else { throw Self.invalid("typ must be dpop+jwt") }
        try JWS.checkAlgorithm(header["alg"]?.stringValue, allowed: ["ES256"])
        let parsed = try self.publicKey(header["jwk"])
        self.keyCache.store(parsed, for: Array(encoded))
        return parsed
    }

    /// The P-256 public key of a `jwk` header and its RFC 7638 thumbprint; a private key (`d`) is refused.
    func publicKey(_ jwk: JSONValue?) throws(LatchError) -> (P256.Signing.PublicKey, String) {
        guard let jwk = jwk?.objectValue else { throw Self.invalid("the header has no jwk") }
        guard jwk["d"] == nil else { throw Self.invalid("the jwk holds a private key") }
        guard jwk["kty"]?.stringValue == "EC", jwk["crv"]?.stringValue == "P-256", let xText = jwk["x"]?.stringValue,
            let yText = jwk["y"]?.stringValue, let x = Base64URL.decode(Array(xText.utf8)), x.count == 32,
            let y = Base64URL.decode(Array(yText.utf8)), y.count == 32, let key = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
        else {
            throw Self.invalid(Self.badJWK)
        }
        return (key, CAKey.thumbprint(of: key))
    }

    /// Whether two URIs are the same once normalized (``normalizedURI(_:)``); never for one that
    /// is not an absolute http(s) URI. An agent names the URI as the request has it, so equal
    /// strings are the usual case, normalized once.
    static func sameURI(_ a: String, _ b: String) -> Bool {
        if a == b { return Self.normalizedURI(a) != nil }
        guard let a = Self.normalizedURI(a), let b = Self.normalizedURI(b) else { return false }
        return a == b
    }

    /// `scheme://host[:port]/path` with scheme and host lowercased, default ports dropped, query
    /// and fragment removed; nil when it is not an absolute http(s) URI. (Delimiters are found in
    /// the UTF-8 bytes: every one is ASCII, and searching characters costs a grapheme walk.)
    static func normalizedURI(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        if let cut = bytes.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { bytes.removeSubrange(cut...) }
        guard let schemeEnd = bytes.indices.first(where: { bytes[$0...].starts(with: "://".utf8) }) else { return nil }
        let scheme = String(decoding: bytes[..<schemeEnd], as: UTF8.self).lowercased()
        guard scheme == "https" || scheme == "http" else { return nil }
        let authorityStart = schemeEnd + 3
        let pathStart = bytes[authorityStart...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
        var authority = String(decoding: bytes[authorityStart..<pathStart], as: UTF8.self).lowercased()
        guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "@")) else { return nil }
        if scheme == "https", authority.hasSuffix(":443") { authority.removeLast(4) }
        if scheme == "http", authority.hasSuffix(":80") { authority.removeLast(3) }
        let path = bytes[pathStart...]
        return scheme + "://" + authority + (path.isEmpty ? "/" : String(decoding: path, as: UTF8.self))
    }

    static let badJWK = "the jwk must be a P-256 public key (kty EC, crv P-256, x and y of 32 bytes)"

    static func invalid(_ message: String) -> LatchError { LatchError(.invalidDPoPProof, message) }
}

/// Accepted proof headers (encoded bytes as sent) → their key and thumbprint. Bounded: starts
/// over when full.
final class DPoPKeyCache: Sendable {
    private let keys = Mutex<[ArraySlice<UInt8>: (P256.Signing.PublicKey, String)]>([:])
    let capacity = 10_000

    func key(for header: ArraySlice<UInt8>) -> (P256.Signing.PublicKey, String)? { self.keys.withLock { $0[header] } }

    func store(_ key: (P256.Signing.PublicKey, String), for header: [UInt8]) {
        self.keys.withLock { keys in
            if keys.count >= self.capacity { keys.removeAll(keepingCapacity: true) }
            keys[header[...]] = key
        }
    }
}
