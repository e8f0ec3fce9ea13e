public import Crypto
public import LatchCore

/// A JWT-SVID (SPIFFE JWT-SVID profile): a JWS compact token signed ES256 with header `alg`,
/// `kid`, `typ: JWT` and claims `sub`, `aud`, `exp`, `iat`.
///
/// Implementation note: a small JWS ES256 implementation over swift-crypto rather than jwt-kit.
/// The SPIFFE profile needs per-rule rejection codes (`alg: none` vs HS256 vs EdDSA, unknown `kid`,
/// `typ`, size limit, duplicate JSON keys) and a fixed, deterministic header/claims encoding;
/// jwt-kit folds these into a few coarse errors and chooses its own encoding, and it also pulls in
/// swift-crypto 4 only. The whole format here is ~200 lines and is tested against a forged-token table.
public struct JWTSVID: Sendable, CustomStringConvertible {
    /// The compact JWS. A bearer credential: never log it.
    public let token: Redacted<String>
    public let spiffeID: SPIFFEID
    public let audience: [String]
    public let keyID: String
    /// Seconds since the epoch (JWT `iat`, `exp`).
    public let issuedAt: Int64
    public let expiresAt: Int64

    public var description: String { "JWTSVID(\(self.spiffeID), aud \(self.audience), kid \(self.keyID), exp \(self.expiresAt))" }
}

/// A JWT-SVID that passed ``JWTSVIDValidator/validate(_:audience:now:)``.
public struct ValidatedJWTSVID: Sendable {
    public let spiffeID: SPIFFEID
    public let keyID: String
    public let audience: [String]
    public let expiresAt: Int64
    /// All claims, for the Workload API's `ValidateJWTSVID` response.
    public let claims: [String: JSONValue]
}

/// Mints JWT-SVIDs.
public enum JWTSVIDMinter {
    /// The header for a key: `{"alg":"ES256","kid":…,"typ":"JWT"}` (base64url), precomputed per key.
    public static func encodedHeader(keyID: String) -> String {
        Base64URL.encode(JSONValue.object(["alg": .string("ES256"), "kid": .string(keyID), "typ": .string("JWT")]).serializedBytes)
    }

    /// Signs without re-validating (used by ``mintAndVerify``; exposed for benchmarks of the parts).
    public static func sign(
        spiffeID: SPIFFEID, audience: [String], ttl: Int64, now: Int64, key: CAKey,
        extraClaims: [String: JSONValue] = [:]
    ) throws(LatchError) -> (token: String, iat: Int64, exp: Int64) {
        guard key.purpose == .jwtSigning else { throw LatchError(.noActiveKey, "a JWT signing key is needed") }
        guard !audience.isEmpty, audience.allSatisfy({ !$0.isEmpty }) else {
            throw LatchError(.invalidInput, "a JWT-SVID needs at least one non-empty audience")
        }
        let iat = UnixTime(milliseconds: now).seconds
        let exp = min(UnixTime(milliseconds: now + max(ttl, 1000)).seconds, UnixTime(milliseconds: key.notAfter).seconds)
        guard exp > iat else { throw LatchError(.noActiveKey, "the JWT signing key \(key.keyID) expires too soon") }
        var claims = extraClaims
        claims["sub"] = .string(spiffeID.description)
        claims["aud"] = audience.count == 1 ? .string(audience[0]) : .array(audience.map(JSONValue.string))
        claims["exp"] = .int(exp)
        claims["iat"] = .int(iat)
        var input = Array(encodedHeader(keyID: key.keyID).utf8)
        input.append(UInt8(ascii: "."))
        input.append(
            contentsOf: Base64URL.encodeBytes(
                claims.isEmpty ? [] : JSONValue.object(claims).serializedBytes,
                alphabet: Base64URL.urlAlphabet, pad: false))
        let signature: P256.Signing.ECDSASignature
        do { signature = try key.privateKey.unredacted.signature(for: input) } catch {
            throw LatchError(.internalError, "ES256 signing failed")
        }
        input.append(UInt8(ascii: "."))
        input.append(contentsOf: Base64URL.encodeBytes(signature.rawRepresentation, alphabet: Base64URL.urlAlphabet, pad: false))
        return (String(decoding: input, as: UTF8.self), iat, exp)
    }

    /// Signs, then re-validates the token with `validator` (which must know `key`) before returning it.
    public static func mintAndVerify(
        spiffeID: SPIFFEID, audience: [String], ttl: Int64, now: Int64, key: CAKey,
        validator: JWTSVIDValidator
    ) throws(LatchError) -> JWTSVID {
        let (token, iat, exp) = try sign(spiffeID: spiffeID, audience: audience, ttl: ttl, now: now, key: key)
        let checked: ValidatedJWTSVID
        do { checked = try validator.validate(token, audience: audience[0], now: now) } catch {
            throw LatchError(.mintedCredentialInvalid, "a freshly minted JWT-SVID failed re-validation: \(error.code)")
        }
        guard checked.spiffeID == spiffeID, checked.keyID == key.keyID else {
            throw LatchError(.mintedCredentialInvalid, "a freshly minted JWT-SVID names another subject or key")
        }
        return JWTSVID(token: Redacted(token), spiffeID: spiffeID, audience: audience, keyID: key.keyID, issuedAt: iat, expiresAt: exp)
    }
}

/// Validates JWT-SVIDs against the JWT authorities of a trust bundle.
///
/// Checks, in order, each failing with its own `LatchError` code: size (`tokenTooLarge`), three
/// parts (`malformedToken`), base64url (`badBase64`), header JSON (`badJSON`), `alg` (`algNone`,
/// `algHMAC`, `algEdDSA`, `algRSA`, `unsupportedAlg`: only ES256), `typ` if present (`JWT`/`JOSE`,
/// else `badTyp`), `crit` (`unsupportedCrit`), `kid` (`missingKid`, `unknownKid`), the signature
/// (`badSignature`), then the claims: `sub`, `aud`, `exp` present (`missingClaim`), `exp`
/// (`expired`), `nbf` (`notYetValid`), `iat` (`issuedInFuture`), audience (`audienceMismatch`),
/// `sub` a SPIFFE ID (`subjectNotSPIFFEID`) of the trust domain (`wrongTrustDomain`).
///
/// - Important: claims are parsed only after the signature verified.
public struct JWTSVIDValidator: Sendable {
    public let trustDomain: TrustDomain
    /// Known keys by `kid`.
    public let keys: [String: P256.Signing.PublicKey]
    /// Allowed clock skew for `exp`, `nbf` and `iat`, milliseconds (default 30 s).
    public var clockSkew: Int64
    /// Largest token accepted, bytes (default 16 KiB).
    public var maxTokenSize: Int

    /// The exact encoded headers Latch itself writes, by key ID. A token whose header part is
    /// byte-for-byte one of these has passed every header check already (same bytes, same
    /// verdict), so its JSON is not parsed again: the hot path of validating our own tokens.
    let knownHeaders: [ArraySlice<UInt8>: String]

    public init(trustDomain: TrustDomain, keys: [String: P256.Signing.PublicKey], clockSkew: Int64 = 30_000, maxTokenSize: Int = 16 * 1024) {
        self.trustDomain = trustDomain
        self.keys = keys
        self.clockSkew = clockSkew
        self.maxTokenSize = maxTokenSize
        var known: [ArraySlice<UInt8>: String] = [:]
        for kid in keys.keys { known[ArraySlice(JWTSVIDMinter.encodedHeader(keyID: kid).utf8)] = kid }
        self.knownHeaders = known
    }

    /// Header checks for a token whose header is not one of ``knownHeaders``; returns the `kid`.
    func checkHeader(_ part: ArraySlice<UInt8>) throws(LatchError) -> String {
        let header = try JWS.decodeJSON(part, what: "header")
        let alg = header["alg"]?.stringValue
        try JWS.checkAlgorithm(alg, allowed: ["ES256"])
        if let typ = header["typ"] {
            guard let t = typ.stringValue, t == "JWT" || t == "JOSE" else {
                throw LatchError(.badTyp, "typ must be JWT or JOSE")
            }
        }
        if header["crit"] != nil { throw LatchError(.unsupportedCrit, "no critical header extensions are understood") }
        guard let kid = header["kid"]?.stringValue, !kid.isEmpty else { throw LatchError(.missingKid, "the header has no kid") }
        return kid
    }

    public func validate(_ token: String, audience: String, now: Int64) throws(LatchError) -> ValidatedJWTSVID {
        let parts = try JWS.split(token, maxSize: self.maxTokenSize)
        let kid: String
        if let known = self.knownHeaders[parts.header] { kid = known } else { kid = try self.checkHeader(parts.header) }
        guard let key = self.keys[kid] else { throw LatchError(.unknownKid, "no JWT authority with this kid in the bundle") }
        try JWS.verifyES256(parts: parts, key: key)
        let claims = try JWS.decodeJSON(parts.payload, what: "claims")
        guard let claimObject = claims.objectValue else { throw LatchError(.badJSON, "the claims are not a JSON object") }

        guard let subValue = claims["sub"] else { throw LatchError(.missingClaim, "sub is required") }
        guard let sub = subValue.stringValue else { throw LatchError(.badClaim, "sub must be a string") }
        let audiences = try JWS.audiences(claims["aud"])
        guard let expValue = claims["exp"] else { throw LatchError(.missingClaim, "exp is required") }
        guard let exp = expValue.intValue else { throw LatchError(.badClaim, "exp must be a number of seconds") }
        try JWS.checkTimes(exp: exp, nbf: claims["nbf"], iat: claims["iat"], now: now, skew: self.clockSkew)
        guard audiences.contains(audience) else { throw LatchError(.audienceMismatch, "the token is not for this audience") }
        let id: SPIFFEID
        do { id = try SPIFFEID(parsing: sub) } catch { throw LatchError(.subjectNotSPIFFEID, "sub is not a SPIFFE ID (\(error.code))") }
        guard id.trustDomain == self.trustDomain else {
            throw LatchError(.wrongTrustDomain, "sub is in trust domain \(id.trustDomain), not \(self.trustDomain)")
        }
        return ValidatedJWTSVID(spiffeID: id, keyID: kid, audience: audiences, expiresAt: exp, claims: claimObject)
    }
}

/// The JWS compact-serialization pieces shared by JWT-SVID validation and OIDC federation.
package enum JWS {
    package struct Parts {
        package let header: ArraySlice<UInt8>
        package let payload: ArraySlice<UInt8>
        package let signature: ArraySlice<UInt8>
        /// `header.payload`, the signing input.
        package let signingInput: ArraySlice<UInt8>
    }

    package static func split(_ token: String, maxSize: Int) throws(LatchError) -> Parts {
        let bytes = Array(token.utf8)
        if bytes.count > maxSize { throw LatchError(.tokenTooLarge, "the token is \(bytes.count) bytes; at most \(maxSize) are accepted") }
        var dots: [Int] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else { throw LatchError(.malformedToken, "a JWS has three dot-separated parts") }
        return Parts(
            header: bytes[0..<dots[0]], payload: bytes[(dots[0] + 1)..<dots[1]],
            signature: bytes[(dots[1] + 1)...], signingInput: bytes[0..<dots[1]])
    }

    package static func decodeJSON(_ part: ArraySlice<UInt8>, what: String) throws(LatchError) -> JSONValue {
        guard let raw = Base64URL.decode(part) else { throw LatchError(.badBase64, "the \(what) is not base64url") }
        guard let json = JSONValue(parsing: raw), json.objectValue != nil else {
            throw LatchError(.badJSON, "the \(what) is not a JSON object")
        }
        return json
    }

    package static func checkAlgorithm(_ alg: String?, allowed: Set<String>) throws(LatchError) {
        guard let alg else { throw LatchError(.unsupportedAlg, "the header has no alg") }
        if allowed.contains(alg) { return }
        switch alg {
        case _ where alg.lowercased() == "none": throw LatchError(.algNone, "unsigned tokens (alg none) are never accepted")
        case "HS256", "HS384", "HS512": throw LatchError(.algHMAC, "HMAC algorithms are never accepted")
        case "EdDSA", "Ed25519", "Ed448": throw LatchError(.algEdDSA, "EdDSA is not allowed for JWT-SVIDs")
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512": throw LatchError(.algRSA, "RSA algorithms are not accepted here")
        default: throw LatchError(.unsupportedAlg, "alg \(alg.prefix(16)) is not accepted")
        }
    }

    package static func verifyES256(parts: Parts, key: P256.Signing.PublicKey) throws(LatchError) {
        guard let raw = Base64URL.decode(parts.signature) else { throw LatchError(.badBase64, "the signature is not base64url") }
        guard raw.count == 64, let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw),
            key.isValidSignature(signature, for: parts.signingInput)
        else {
            throw LatchError(.badSignature, "the signature does not verify")
        }
    }

    package static func audiences(_ value: JSONValue?) throws(LatchError) -> [String] {
        switch value {
        case nil: throw LatchError(.missingClaim, "aud is required")
        case .string(let s)? where !s.isEmpty: return [s]
        case .array(let a)? where !a.isEmpty:
            var out: [String] = []
            for v in a {
                guard let s = v.stringValue, !s.isEmpty else { throw LatchError(.badClaim, "aud entries are non-empty strings") }
                out.append(s)
            }
            return out
        default: throw LatchError(.missingClaim, "aud must be a non-empty string or array")
        }
    }

    /// `now` in milliseconds; claims in seconds.
    package static func checkTimes(exp: Int64, nbf: JSONValue?, iat: JSONValue?, now: Int64, skew: Int64) throws(LatchError) {
        let nowMinusSkew = UnixTime(milliseconds: now).adding(milliseconds: -skew)
        let nowPlusSkew = UnixTime(milliseconds: now).adding(milliseconds: skew)
        if exp <= nowMinusSkew.seconds { throw LatchError(.expired, "the token has expired") }
        if let nbf {
            guard let n = nbf.intValue else { throw LatchError(.badClaim, "nbf must be a number of seconds") }
            if n > nowPlusSkew.seconds { throw LatchError(.notYetValid, "the token is not valid yet (nbf)") }
        }
        if let iat {
            guard let i = iat.intValue else { throw LatchError(.badClaim, "iat must be a number of seconds") }
            if i > nowPlusSkew.seconds { throw LatchError(.issuedInFuture, "the token was issued in the future (iat)") }
        }
    }
}
