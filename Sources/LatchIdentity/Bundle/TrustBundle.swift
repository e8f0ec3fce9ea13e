public import Crypto
public import LatchCore
public import X509

/// The trust domain's published keys: X.509 authorities (CA certificates) and JWT authorities.
///
/// Renders the SPIFFE bundle format (a JWKS with `spiffe_sequence` and `spiffe_refresh_hint`;
/// keys with `use: "x509-svid"` carrying `x5c`, and `use: "jwt-svid"` carrying `kid`), the X.509
/// bundle as concatenated DER, and a plain JWKS for JWT-SVID verifiers (OIDC). JSON output is
/// deterministic: keys sorted, authorities ordered by key ID.
public struct TrustBundle: Sendable {
    public struct X509Authority: Sendable {
        public let keyID: String
        public let certificate: Certificate
        public let certificateDER: [UInt8]
    }

    public struct JWTAuthority: Sendable {
        public let keyID: String
        public let publicKey: P256.Signing.PublicKey
        /// Milliseconds since the epoch; tokens it signed expire by then.
        public let notAfter: Int64
    }

    public let trustDomain: TrustDomain
    public let x509Authorities: [X509Authority]
    public let jwtAuthorities: [JWTAuthority]
    /// Grows whenever the set of keys changes.
    public let sequence: Int64
    /// How often relying parties should refetch, seconds.
    public let refreshHint: Int64

    public init(trustDomain: TrustDomain, x509Authorities: [X509Authority], jwtAuthorities: [JWTAuthority], sequence: Int64, refreshHint: Int64) {
        self.trustDomain = trustDomain
        self.x509Authorities = x509Authorities.sorted { $0.keyID < $1.keyID }
        self.jwtAuthorities = jwtAuthorities.sorted { $0.keyID < $1.keyID }
        self.sequence = sequence
        self.refreshHint = refreshHint
    }

    /// The bundle made of every published, active and retired key.
    public init(trustDomain: TrustDomain, keys: [CAKey], sequence: Int64, refreshHint: Int64) {
        var x509: [X509Authority] = []
        var jwt: [JWTAuthority] = []
        for key in keys where key.state != .prepared {
            switch key.purpose {
            case .x509Authority:
                if let cert = key.certificate, let der = key.certificateDER {
                    x509.append(X509Authority(keyID: key.keyID, certificate: cert, certificateDER: der))
                }
            case .jwtSigning:
                jwt.append(JWTAuthority(keyID: key.keyID, publicKey: key.publicKey, notAfter: key.notAfter))
            }
        }
        self.init(trustDomain: trustDomain, x509Authorities: x509, jwtAuthorities: jwt, sequence: sequence, refreshHint: refreshHint)
    }

    /// The X.509 bundle: the authorities' DER certificates, concatenated (as the Workload API sends).
    public var x509BundleDER: [UInt8] { self.x509Authorities.flatMap(\.certificateDER) }

    /// A validator that trusts this bundle's JWT authorities.
    public func jwtValidator(clockSkew: Int64 = 30_000, maxTokenSize: Int = 16 * 1024) -> JWTSVIDValidator {
        var keys: [String: P256.Signing.PublicKey] = [:]
        for a in self.jwtAuthorities { keys[a.keyID] = a.publicKey }
        return JWTSVIDValidator(trustDomain: self.trustDomain, keys: keys, clockSkew: clockSkew, maxTokenSize: maxTokenSize)
    }

    static func ecJWK(_ key: P256.Signing.PublicKey) -> [String: JSONValue] {
        let raw = Array(key.x963Representation)
        return [
            "kty": .string("EC"), "crv": .string("P-256"),
            "x": .string(Base64URL.encode(raw[1..<33])), "y": .string(Base64URL.encode(raw[33..<65])),
        ]
    }

    /// The SPIFFE bundle (SPIFFE Trust Domain and Bundle §4) as a JSON value.
    public var spiffeBundle: JSONValue {
        var keys: [JSONValue] = []
        for a in self.x509Authorities {
            guard let p256 = P256.Signing.PublicKey(a.certificate.publicKey) else { continue }
            var jwk = Self.ecJWK(p256)
            jwk["use"] = .string("x509-svid")
            jwk["x5c"] = .array([.string(Base64URL.encodeStandard(a.certificateDER))])
            keys.append(.object(jwk))
        }
        for a in self.jwtAuthorities {
            var jwk = Self.ecJWK(a.publicKey)
            jwk["use"] = .string("jwt-svid")
            jwk["kid"] = .string(a.keyID)
            keys.append(.object(jwk))
        }
        return .object(["keys": .array(keys), "spiffe_sequence": .int(self.sequence), "spiffe_refresh_hint": .int(self.refreshHint)])
    }

    /// The JWT authorities as a plain JWKS (`use: sig`, `alg: ES256`), for any JWT library.
    public var jwks: JSONValue {
        .object([
            "keys": .array(
                self.jwtAuthorities.map { a in
                    var jwk = Self.ecJWK(a.publicKey)
                    jwk["use"] = .string("sig")
                    jwk["alg"] = .string("ES256")
                    jwk["kid"] = .string(a.keyID)
                    return .object(jwk)
                })
        ])
    }

    /// Only the JWT authorities in SPIFFE bundle form (what `FetchJWTBundles` sends per trust domain).
    public var jwtBundle: JSONValue {
        .object([
            "keys": .array(
                self.jwtAuthorities.map { a in
                    var jwk = Self.ecJWK(a.publicKey)
                    jwk["use"] = .string("jwt-svid")
                    jwk["kid"] = .string(a.keyID)
                    return .object(jwk)
                })
        ])
    }
}

/// An OpenID Connect discovery document (`/.well-known/openid-configuration`) advertising the
/// JWKS of the JWT-SVID keys, so relying parties can verify JWT-SVIDs with a stock OIDC library.
public struct OIDCDiscoveryDocument: Hashable, Sendable {
    public var issuer: String
    public var jwksURI: String
    public var idTokenSigningAlgValuesSupported: [String] = ["ES256"]
    public var responseTypesSupported: [String] = ["id_token"]
    public var subjectTypesSupported: [String] = ["public"]
    public var claimsSupported: [String] = ["sub", "aud", "exp", "iat"]

    public init(issuer: String, jwksURI: String) {
        self.issuer = issuer
        self.jwksURI = jwksURI
    }

    public var json: JSONValue {
        .object([
            "issuer": .string(self.issuer),
            "jwks_uri": .string(self.jwksURI),
            "id_token_signing_alg_values_supported": .array(self.idTokenSigningAlgValuesSupported.map(JSONValue.string)),
            "response_types_supported": .array(self.responseTypesSupported.map(JSONValue.string)),
            "subject_types_supported": .array(self.subjectTypesSupported.map(JSONValue.string)),
            "claims_supported": .array(self.claimsSupported.map(JSONValue.string)),
        ])
    }
}
