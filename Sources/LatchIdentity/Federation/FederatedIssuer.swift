import Crypto
public import LatchCore
import _CryptoExtras

/// An external OIDC issuer whose JWTs Latch accepts as attestation (Kubernetes projected
/// service-account tokens, CI OIDC tokens…).
public struct FederatedIssuer: Hashable, Sendable {
    /// Short name used in selectors: `oidc:<alias>:<name>:<value>`.
    public var alias: String
    /// Exact `iss` value expected.
    public var issuerURL: String
    /// The audience Latch must find in `aud`.
    public var audience: String
    /// Where the issuer's JWKS is fetched from.
    public var jwksURL: String
    /// Claim path (`/`-separated for nested objects, e.g. `kubernetes.io/namespace`) → selector name.
    /// `sub` is always mapped to `sub`.
    public var claimMappings: [String: String]
    /// Accepted algorithms: a subset of `RS256`, `ES256`.
    public var algorithms: Set<String>
    /// How long a fetched JWKS is used before it is refetched, milliseconds (default 1 h).
    public var cacheTTL: Int64
    /// Least time between two fetches triggered by an unknown `kid`, milliseconds (default 30 s).
    public var minRefetchInterval: Int64
    /// Allowed clock skew, milliseconds.
    public var clockSkew: Int64

    public init(
        alias: String, issuerURL: String, audience: String, jwksURL: String, claimMappings: [String: String] = [:],
        algorithms: Set<String> = ["RS256", "ES256"], cacheTTL: Int64 = 3_600_000, minRefetchInterval: Int64 = 30_000,
        clockSkew: Int64 = 30_000
    ) {
        self.alias = alias
        self.issuerURL = issuerURL
        self.audience = audience
        self.jwksURL = jwksURL
        self.claimMappings = claimMappings
        self.algorithms = algorithms.intersection(["RS256", "ES256"])
        self.cacheTTL = cacheTTL
        self.minRefetchInterval = minRefetchInterval
        self.clockSkew = clockSkew
    }
}

/// Fetches a JWKS document (the HTTP implementation lives in the app layer; tests use a fake).
public protocol JWKSFetcher: Sendable {
    func fetchJWKS(url: String) async throws -> [UInt8]
}

/// A verification key from a JWKS.
enum FederationKey: Sendable {
    case ec(P256.Signing.PublicKey)
    case rsa(_RSA.Signing.PublicKey)

    /// Parses the usable keys of a JWKS (EC P-256 and RSA ≥ 2048 bits with a `kid`); others are skipped.
    static func parseJWKS(_ bytes: [UInt8]) throws(LatchError) -> [String: FederationKey] {
        guard let json = JSONValue(parsing: bytes), let keys = json["keys"]?.arrayValue else {
            throw LatchError(.jwksUnavailable, "the JWKS is not a JSON object with keys")
        }
        var out: [String: FederationKey] = [:]
        for key in keys {
            guard let kid = key["kid"]?.stringValue, let kty = key["kty"]?.stringValue else { continue }
            if let use = key["use"]?.stringValue, use != "sig" { continue }
            switch kty {
            case "EC":
                guard key["crv"]?.stringValue == "P-256",
                    let x = key["x"]?.stringValue.flatMap({ Base64URL.decode(Array($0.utf8)) }), x.count == 32,
                    let y = key["y"]?.stringValue.flatMap({ Base64URL.decode(Array($0.utf8)) }), y.count == 32,
                    let pk = try? P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
                else { continue }
                out[kid] = .ec(pk)
            case "RSA":
                guard let n = key["n"]?.stringValue.flatMap({ Base64URL.decode(Array($0.utf8)) }),
                    let e = key["e"]?.stringValue.flatMap({ Base64URL.decode(Array($0.utf8)) }),
                    let pk = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { continue }
                out[kid] = .rsa(pk)
            default: continue
            }
        }
        return out
    }
}

/// Verifies JWTs of one ``FederatedIssuer`` and turns their claims into selectors.
///
/// The issuer's JWKS is cached for `cacheTTL`; a token with an unknown `kid` triggers one refetch,
/// at most once per `minRefetchInterval` (so forged `kid`s cannot make Latch hammer the issuer).
public actor FederatedTokenVerifier {
    public let issuer: FederatedIssuer
    let fetcher: any JWKSFetcher
    var keys: [String: FederationKey] = [:]
    var fetchedAt: Int64? = nil
    var lastFetchAttempt: Int64? = nil
    /// How many times the JWKS was fetched (for tests and metrics).
    public private(set) var fetchCount = 0
    /// Largest token accepted, bytes.
    public var maxTokenSize = 16 * 1024

    public init(issuer: FederatedIssuer, fetcher: any JWKSFetcher) {
        self.issuer = issuer
        self.fetcher = fetcher
    }

    func refresh(now: Int64) async throws(LatchError) {
        self.lastFetchAttempt = now
        self.fetchCount += 1
        let bytes: [UInt8]
        do { bytes = try await self.fetcher.fetchJWKS(url: self.issuer.jwksURL) } catch {
            throw LatchError(.jwksUnavailable, "fetching the JWKS of \(self.issuer.alias) failed")
        }
        self.keys = try FederationKey.parseJWKS(bytes)
        self.fetchedAt = now
    }

    func key(kid: String, now: Int64) async throws(LatchError) -> FederationKey {
        if self.fetchedAt.map({ now - $0 >= self.issuer.cacheTTL }) ?? true {
            try await self.refresh(now: now)
        }
        if let key = self.keys[kid] { return key }
        if self.lastFetchAttempt.map({ now - $0 >= self.issuer.minRefetchInterval }) ?? true {
            try await self.refresh(now: now)
            if let key = self.keys[kid] { return key }
        }
        throw LatchError(.unknownKid, "no key with this kid in the JWKS of \(self.issuer.alias)")
    }

    /// Verifies `token` at `now` (milliseconds) and returns its selectors, sorted.
    public func verify(_ token: String, now: Int64) async throws(LatchError) -> [Selector] {
        let parts = try JWS.split(token, maxSize: self.maxTokenSize)
        let header = try JWS.decodeJSON(parts.header, what: "header")
        let alg = header["alg"]?.stringValue
        try JWS.checkAlgorithm(alg, allowed: self.issuer.algorithms)
        if header["crit"] != nil { throw LatchError(.unsupportedCrit, "no critical header extensions are understood") }
        guard let kid = header["kid"]?.stringValue, !kid.isEmpty else { throw LatchError(.missingKid, "the header has no kid") }
        let key = try await self.key(kid: kid, now: now)
        switch (alg, key) {
        case ("ES256", .ec(let pk)):
            try JWS.verifyES256(parts: parts, key: pk)
        case ("RS256", .rsa(let pk)):
            guard let raw = Base64URL.decode(parts.signature) else { throw LatchError(.badBase64, "the signature is not base64url") }
            let digest = SHA256.hash(data: parts.signingInput)
            guard pk.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: raw), for: digest, padding: .insecurePKCS1v1_5) else {
                throw LatchError(.badSignature, "the signature does not verify")
            }
        default:
            throw LatchError(.badSignature, "the key with this kid is not for \(alg ?? "?")")
        }
        let claims = try JWS.decodeJSON(parts.payload, what: "claims")
        guard let iss = claims["iss"] else { throw LatchError(.missingClaim, "iss is required") }
        guard iss.stringValue == self.issuer.issuerURL else { throw LatchError(.issuerMismatch, "the token is from another issuer") }
        let audiences = try JWS.audiences(claims["aud"])
        guard let expValue = claims["exp"] else { throw LatchError(.missingClaim, "exp is required") }
        guard let exp = expValue.intValue else { throw LatchError(.badClaim, "exp must be a number of seconds") }
        try JWS.checkTimes(exp: exp, nbf: claims["nbf"], iat: claims["iat"], now: now, skew: self.issuer.clockSkew)
        guard audiences.contains(self.issuer.audience) else { throw LatchError(.audienceMismatch, "the token is not for Latch") }
        guard let sub = claims["sub"]?.stringValue, !sub.isEmpty else { throw LatchError(.missingClaim, "sub is required") }

        guard Self.scalars(.string(sub)) == [sub] else { throw LatchError(.badClaim, "sub has control characters") }
        var selectors: Set<Selector> = [Selector(type: "oidc", value: "\(self.issuer.alias):sub:\(sub)")]
        for (path, name) in self.issuer.claimMappings {
            var value: JSONValue? = claims
            for segment in path.split(separator: "/") { value = value?[String(segment)] }
            for scalar in Self.scalars(value) {
                selectors.insert(Selector(type: "oidc", value: "\(self.issuer.alias):\(name):\(scalar)"))
            }
        }
        return selectors.sorted()
    }

    static func scalars(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let s)?:
            // A claim value becomes part of a selector: no empty values, no control characters.
            return s.isEmpty || s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) ? [] : [s]
        case .int(let i)?: return [String(i)]
        case .bool(let b)?: return [String(b)]
        case .array(let a)?:
            return a.flatMap { v -> [String] in
                if case .array = v { return [] }
                return scalars(v)
            }
        default: return []
        }
    }
}
