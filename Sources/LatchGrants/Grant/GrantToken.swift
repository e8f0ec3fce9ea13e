public import Crypto
public import LatchCore
public import LatchIdentity
import Synchronization

/// Task grants as JWT access tokens (RFC 9068): header `{"alg":"ES256","kid":…,"typ":"at+jwt"}`,
/// claims `iss`, `sub`, `aud`, `client_id` (the holder), `jti`, `iat`, `exp`, `cnf.jkt` (RFC 9449),
/// `act` nested per RFC 8693 §4.1 (most recent actor outermost), and Latch's own, kept to a
/// minimum and prefixed: `task_id`, `intent`, `latch_scope` (`tools`, `data_domains`,
/// `destinations`, `max_sensitivity`), `latch_ancestors`, `latch_depth`, `latch_may_act`.
/// Signed with the trust domain's JWT signing key, so the published JWKS verifies grants too.
public enum GrantToken {
    /// Signs `grant`. Times are carried in whole seconds (`iat`, `exp`), so a grant whose times
    /// are not whole seconds decodes truncated; ``GrantAuthority`` issues whole seconds.
    ///
    /// Unlike SVIDs, a grant is not verified again after signing: the token endpoint's rate is
    /// bounded by signing, a verification costs about three signatures, and the signature comes
    /// from the same library call. The tests verify minted grants with this verifier and PyJWT.
    public static func mint(_ grant: TaskGrant, issuer: String, key: CAKey) throws(LatchError) -> String {
        try Self.mintRecorded(grant, issuer: issuer, key: key).token
    }

    /// ``mint(_:issuer:key:)``, also returning the grant's record for the store, whose claims are
    /// the bytes the token signs (written once for both).
    public static func mintRecorded(_ grant: TaskGrant, issuer: String, key: CAKey) throws(LatchError) -> (token: String, record: GrantRecord) {
        guard key.purpose == .jwtSigning else { throw LatchError(.noActiveKey, "a JWT signing key is needed") }
        guard grant.expiresAt <= key.notAfter else { throw LatchError(.noActiveKey, "the grant would outlive its signing key") }
        var token: [UInt8] = []
        token.reserveCapacity(1024)
        var header = Array(#"{"alg":"ES256","kid":"#.utf8)
        JSONValue.writeString(key.keyID, into: &header)
        header.append(contentsOf: #","typ":"at+jwt"}"#.utf8)
        Base64URL.append(header, to: &token)
        token.append(UInt8(ascii: "."))
        let claims = grant.claimsJSON(issuer: issuer)
        Base64URL.append(claims, to: &token)
        let signature: P256.Signing.ECDSASignature
        do { signature = try key.privateKey.unredacted.signature(for: token) } catch {
            throw LatchError(.internalError, "ES256 signing failed")
        }
        token.append(UInt8(ascii: "."))
        Base64URL.append(Array(signature.rawRepresentation), to: &token)
        return (String(decoding: token, as: UTF8.self), GrantRecord(grant: grant, claims: claims))
    }
}

/// Verifies grants on the hot path: signature, header, claims, revocation, and with a request the
/// DPoP proof bound to the grant. No I/O: keys, the revocation index and the replay cache are in
/// memory.
public struct GrantVerifier: Sendable {
    public let issuer: String
    /// JWT signing keys by `kid` (the trust bundle's JWT authorities).
    public let keys: [String: P256.Signing.PublicKey]
    public let revocations: RevocationIndex
    public let dpop: DPoPVerifier
    /// Milliseconds (default 30 s).
    public var clockSkew: Int64 = 30_000
    public var maxTokenSize: Int = 16 * 1024
    /// Grants already verified, by the SHA-256 of their token, so an agent calling tool after tool
    /// with one grant pays its signature check once; audience, expiry, revocation and the DPoP
    /// proof are still checked on every call. Nil: verify every time.
    public let verified: VerifiedGrantCache?

    public init(
        issuer: String, keys: [String: P256.Signing.PublicKey], revocations: RevocationIndex, dpop: DPoPVerifier,
        verified: VerifiedGrantCache? = nil
    ) {
        self.issuer = issuer
        self.keys = keys
        self.revocations = revocations
        self.dpop = dpop
        self.verified = verified
    }

    /// Verifies a grant presented with a DPoP proof for `request` and `audience` at `now`. A nil
    /// `audience` skips that check: the issuer's own endpoints (task completion) accept any grant
    /// it issued.
    public func verify(_ token: String, audience: String?, proof: String, request: DPoPRequest, now: Int64) throws(LatchError) -> TaskGrant {
        // One SHA-256 of the token serves the cache key and the proof's `ath` check.
        let digest = Array(SHA256.hash(data: Array(token.utf8)))
        let grant: TaskGrant
        if let cache = self.verified, let known = cache.grant(for: digest) {
            guard known.expiresAt > now - self.clockSkew else { throw LatchError(.expired, "the token has expired") }
            grant = known
        } else {
            grant = try self.decode(token, now: now)
            self.verified?.store(grant, for: digest)
        }
        if let audience, !grant.audience.contains(audience) {
            throw LatchError(.audienceMismatch, "the grant is not for \(audience)")
        }
        guard !self.revocations.isRevoked(grant) else { throw LatchError(.grantRevoked, "the grant or one it descends from is revoked") }
        var bound = request
        bound.accessTokenHash = digest
        bound.boundThumbprint = grant.keyThumbprint
        _ = try self.dpop.verify(proof, for: bound, now: now)
        return grant
    }

    /// Checks signature, header and claims (not audience, revocation or DPoP) and decodes.
    public func decode(_ token: String, now: Int64) throws(LatchError) -> TaskGrant {
        let parts = try JWS.split(token, maxSize: self.maxTokenSize)
        let header = try JWS.decodeJSON(parts.header, what: "header")
        try JWS.checkAlgorithm(header["alg"]?.stringValue, allowed: ["ES256"])
        guard header["typ"]?.stringValue == "at+jwt" else { throw LatchError(.badTyp, "a grant has typ at+jwt") }
        guard header["crit"] == nil else { throw LatchError(.unsupportedCrit, "crit is not supported") }
        guard let kid = header["kid"]?.stringValue else { throw LatchError(.missingKid, "the header has no kid") }
        guard let key = self.keys[kid] else { throw LatchError(.unknownKid, "no signing key \(kid.prefix(64))") }
        try JWS.verifyES256(parts: parts, key: key)
        let claims = try JWS.decodeJSON(parts.payload, what: "claims")
        guard claims["iss"]?.stringValue == self.issuer else { throw LatchError(.issuerMismatch, "the grant is from another issuer") }
        try JWS.checkTimes(exp: try TaskGrant.seconds(claims, "exp"), nbf: claims["nbf"], iat: claims["iat"], now: now, skew: self.clockSkew)
        return try TaskGrant(claims: claims)
    }
}

/// Verified grants by token digest (see ``GrantVerifier/verified``). Bounded: when full it starts
/// over. Keys are SHA-256 digests of whole tokens, so a grant is found only for the exact token
/// whose signature was checked.
public final class VerifiedGrantCache: Sendable {
    private let grants = Mutex<[[UInt8]: TaskGrant]>([:])
    public let capacity: Int

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    func grant(for digest: [UInt8]) -> TaskGrant? { self.grants.withLock { $0[digest] } }

    func store(_ grant: TaskGrant, for digest: [UInt8]) {
        self.grants.withLock { grants in
            if grants.count >= self.capacity { grants.removeAll(keepingCapacity: true) }
            grants[digest] = grant
        }
    }
}

extension LatchError.Code {
    /// The grant, or a grant it was delegated from, has been revoked.
    public static let grantRevoked = Self("grantRevoked")
}
