import Crypto
import LatchCore
import LatchTesting
import Testing

@testable import LatchIdentity

/// Builds tokens by hand, including forged ones.
enum Forge {
    static let key = TestKeys.jwtKey()
    static let otherKey = TestKeys.jwtKey(seed: "attacker")
    static let now = TestKeys.epoch + 10_000
    static let nowSeconds = now / 1000

    static func b64(_ json: JSONValue) -> String { Base64URL.encode(json.serializedBytes) }
    static func b64(_ text: String) -> String { Base64URL.encode(Array(text.utf8)) }

    static var header: [String: JSONValue] { ["alg": .string("ES256"), "kid": .string(key.keyID), "typ": .string("JWT")] }
    static var claims: [String: JSONValue] {
        [
            "sub": .string("spiffe://example.org/agent"), "aud": .array([.string("svc")]),
            "exp": .int(nowSeconds + 300), "iat": .int(nowSeconds),
        ]
    }

    static func es256(_ input: String, with privateKey: P256.Signing.PrivateKey = key.privateKey.unredacted) -> String {
        Base64URL.encode(Array((try! privateKey.signature(for: Array(input.utf8))).rawRepresentation))
    }

    /// header.claims signed ES256 by `signer`.
    static func token(
        header h: [String: JSONValue] = header, claims c: [String: JSONValue] = claims,
        signer: P256.Signing.PrivateKey = key.privateKey.unredacted
    ) -> String {
        let input = b64(.object(h)) + "." + b64(.object(c))
        return input + "." + es256(input, with: signer)
    }

    static func with(header changes: [String: JSONValue?]) -> [String: JSONValue] {
        var h = header
        for (k, v) in changes { h[k] = v }
        return h
    }

    static func with(claims changes: [String: JSONValue?]) -> [String: JSONValue] {
        var c = claims
        for (k, v) in changes { c[k] = v }
        return c
    }
}

struct Forgery: Sendable, CustomTestStringConvertible {
    let name: String
    let code: LatchError.Code
    let make: @Sendable () -> String
    var testDescription: String { self.name }
    init(_ name: String, _ code: LatchError.Code, _ make: @escaping @Sendable () -> String) {
        self.name = name
        self.code = code
        self.make = make
    }
}

@Suite("JWTSVIDValidator")
struct JWTSVIDValidatorTests {
    let validator = JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [Forge.key.keyID: Forge.key.publicKey])

    static let forgeries: [Forgery] = [
        Forgery("alg none, empty signature", .algNone) {
            Forge.b64(.object(Forge.with(header: ["alg": .string("none")]))) + "." + Forge.b64(.object(Forge.claims)) + "."
        },
        Forgery("alg None (mixed case)", .algNone) {
            Forge.b64(.object(Forge.with(header: ["alg": .string("None")]))) + "." + Forge.b64(.object(Forge.claims)) + "."
        },
        Forgery("HS256 signed with the public key bytes", .algHMAC) {
            let input = Forge.b64(.object(Forge.with(header: ["alg": .string("HS256")]))) + "." + Forge.b64(.object(Forge.claims))
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array(input.utf8),
                using: SymmetricKey(data: Array(Forge.key.publicKey.x963Representation)))
            return input + "." + Base64URL.encode(Array(mac))
        },
        Forgery("HS512", .algHMAC) {
            let input = Forge.b64(.object(Forge.with(header: ["alg": .string("HS512")]))) + "." + Forge.b64(.object(Forge.claims))
            let mac = HMAC<SHA512>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(Forge.key.publicKey.derRepresentation)))
            return input + "." + Base64URL.encode(Array(mac))
        },
        Forgery("EdDSA (forbidden by SPIFFE)", .algEdDSA) {
            let input = Forge.b64(.object(Forge.with(header: ["alg": .string("EdDSA")]))) + "." + Forge.b64(.object(Forge.claims))
            let signature = try! Curve25519.Signing.PrivateKey().signature(for: Array(input.utf8))
            return input + "." + Base64URL.encode(Array(signature))
        },
        Forgery("RS256", .algRSA) {
            let input = Forge.b64(.object(Forge.with(header: ["alg": .string("RS256")]))) + "." + Forge.b64(.object(Forge.claims))
            return input + "." + Base64URL.encode([UInt8](repeating: 7, count: 256))
        },
        Forgery("PS256", .algRSA) { Forge.token(header: Forge.with(header: ["alg": .string("PS256")])) },
        Forgery("ES384", .unsupportedAlg) { Forge.token(header: Forge.with(header: ["alg": .string("ES384")])) },
        Forgery("alg missing", .unsupportedAlg) { Forge.token(header: Forge.with(header: ["alg": nil])) },
        Forgery("alg not a string", .unsupportedAlg) { Forge.token(header: Forge.with(header: ["alg": .int(1)])) },
        Forgery("typ at+jwt", .badTyp) { Forge.token(header: Forge.with(header: ["typ": .string("at+jwt")])) },
        Forgery("crit header", .unsupportedCrit) { Forge.token(header: Forge.with(header: ["crit": .array([.string("exp")])])) },
        Forgery("kid missing", .missingKid) { Forge.token(header: Forge.with(header: ["kid": nil])) },
        Forgery("unknown kid", .unknownKid) { Forge.token(header: Forge.with(header: ["kid": .string("nope")])) },
        Forgery("signed by another key under our kid", .badSignature) { Forge.token(signer: Forge.otherKey.privateKey.unredacted) },
        Forgery("signature truncated to 63 bytes", .badSignature) {
            let t = Forge.token()
            let parts = t.split(separator: ".")
            return parts[0] + "." + parts[1] + "." + Base64URL.encode(Base64URL.decode(Array(parts[2].utf8))!.prefix(63))
        },
        Forgery("DER signature instead of r||s", .badSignature) {
            let input = Forge.b64(.object(Forge.header)) + "." + Forge.b64(.object(Forge.claims))
            let sig = try! Forge.key.privateKey.unredacted.signature(for: Array(input.utf8))
            return input + "." + Base64URL.encode(Array(sig.derRepresentation))
        },
        Forgery("claims swapped after signing", .badSignature) {
            let parts = Forge.token().split(separator: ".")
            let other = Forge.b64(.object(Forge.with(claims: ["sub": .string("spiffe://example.org/admin")])))
            return parts[0] + "." + other + "." + parts[2]
        },
        Forgery("wrong audience", .audienceMismatch) { Forge.token(claims: Forge.with(claims: ["aud": .string("other")])) },
        Forgery("expired", .expired) { Forge.token(claims: Forge.with(claims: ["exp": .int(Forge.nowSeconds - 60)])) },
        Forgery("future nbf", .notYetValid) { Forge.token(claims: Forge.with(claims: ["nbf": .int(Forge.nowSeconds + 3600)])) },
        Forgery("future iat", .issuedInFuture) { Forge.token(claims: Forge.with(claims: ["iat": .int(Forge.nowSeconds + 3600)])) },
        Forgery("sub missing", .missingClaim) { Forge.token(claims: Forge.with(claims: ["sub": nil])) },
        Forgery("aud missing", .missingClaim) { Forge.token(claims: Forge.with(claims: ["aud": nil])) },
        Forgery("aud empty array", .missingClaim) { Forge.token(claims: Forge.with(claims: ["aud": .array([])])) },
        Forgery("exp missing", .missingClaim) { Forge.token(claims: Forge.with(claims: ["exp": nil])) },
        Forgery("exp a string", .badClaim) { Forge.token(claims: Forge.with(claims: ["exp": .string("tomorrow")])) },
        Forgery("sub not a SPIFFE ID", .subjectNotSPIFFEID) { Forge.token(claims: Forge.with(claims: ["sub": .string("agent")])) },
        Forgery("sub with a dot segment", .subjectNotSPIFFEID) {
            Forge.token(claims: Forge.with(claims: ["sub": .string("spiffe://example.org/a/../admin")]))
        },
        Forgery("sub in another trust domain", .wrongTrustDomain) {
            Forge.token(claims: Forge.with(claims: ["sub": .string("spiffe://evil.org/agent")]))
        },
        Forgery("oversized (17 KiB)", .tokenTooLarge) {
            Forge.token(claims: Forge.with(claims: ["pad": .string(String(repeating: "x", count: 17 * 1024))]))
        },
        Forgery("two parts", .malformedToken) { Forge.b64(.object(Forge.header)) + "." + Forge.b64(.object(Forge.claims)) },
        Forgery("four parts", .malformedToken) { Forge.token() + ".x" },
        Forgery("empty string", .malformedToken) { "" },
        Forgery("header in standard base64 alphabet", .badBase64) { "eyJ+/.e30.AA" },
        Forgery("padded base64", .badBase64) {
            let parts = Forge.token().split(separator: ".")
            return parts[0] + "=." + parts[1] + "." + parts[2]
        },
        Forgery("header not JSON", .badJSON) { Forge.b64("not json") + "." + Forge.b64(.object(Forge.claims)) + ".AA" },
        Forgery("header with duplicate alg", .badJSON) {
            Forge.b64("{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"\(Forge.key.keyID)\"}") + "." + Forge.b64(.object(Forge.claims)) + ".AA"
        },
        Forgery("claims a JSON array", .badJSON) {
            let input = Forge.b64(.object(Forge.header)) + "." + Forge.b64("[1]")
            return input + "." + Forge.es256(input)
        },
    ]

    @Test("malformed and forged tokens are rejected with their specific code", arguments: forgeries)
    func rejectsForgery(_ forgery: Forgery) {
        let token = forgery.make()
        #expect(throws: LatchError(forgery.code, "")) { try self.validator.validate(token, audience: "svc", now: Forge.now) }
    }

    @Test("a well-formed token validates and exposes subject, audience and claims")
    func acceptsValid() throws {
        let validated = try self.validator.validate(Forge.token(), audience: "svc", now: Forge.now)
        #expect(validated.spiffeID.description == "spiffe://example.org/agent")
        #expect(validated.audience == ["svc"])
        #expect(validated.keyID == Forge.key.keyID)
        #expect(validated.claims["iat"] == .int(Forge.nowSeconds))
    }

    @Test("typ JOSE, typ absent and a string aud are accepted")
    func acceptedVariants() throws {
        _ = try self.validator.validate(Forge.token(header: Forge.with(header: ["typ": .string("JOSE")])), audience: "svc", now: Forge.now)
        _ = try self.validator.validate(Forge.token(header: Forge.with(header: ["typ": nil])), audience: "svc", now: Forge.now)
        _ = try self.validator.validate(Forge.token(claims: Forge.with(claims: ["aud": .string("svc")])), audience: "svc", now: Forge.now)
    }

    @Test("exp within the clock skew is still accepted, beyond it is not")
    func skew() throws {
        let token = Forge.token(claims: Forge.with(claims: ["exp": .int(Forge.nowSeconds - 10)]))
        _ = try self.validator.validate(token, audience: "svc", now: Forge.now)
        #expect(throws: LatchError(.expired, "")) { try self.validator.validate(token, audience: "svc", now: Forge.now + 31_000) }
    }

    @Test("error messages never contain the token")
    func noTokenInErrors() {
        let token = Forge.token(claims: Forge.with(claims: ["aud": .string("other")]))
        do {
            _ = try self.validator.validate(token, audience: "svc", now: Forge.now)
            Issue.record("expected a rejection")
        } catch {
            #expect(!error.message.contains(token))
            #expect(!error.message.contains(String(token.split(separator: ".")[2])))
        }
    }
}

@Suite("JWTSVIDMinter")
struct JWTSVIDMinterTests {
    let key = TestKeys.jwtKey()
    var validator: JWTSVIDValidator { JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [self.key.keyID: self.key.publicKey]) }
    let id = try! SPIFFEID(parsing: "spiffe://example.org/agents/billing")

    @Test("a minted token has the profile's header and claims and validates")
    func mintsProfile() throws {
        let now = TestKeys.epoch + 1_234
        let svid = try JWTSVIDMinter.mintAndVerify(
            spiffeID: self.id, audience: ["svc"], ttl: 300_000, now: now, key: self.key, validator: self.validator)
        let parts = svid.token.unredacted.split(separator: ".")
        #expect(parts.count == 3)
        let header = JSONValue(parsing: Base64URL.decode(Array(parts[0].utf8))!)!
        #expect(header == .object(["alg": .string("ES256"), "kid": .string(self.key.keyID), "typ": .string("JWT")]))
        let claims = JSONValue(parsing: Base64URL.decode(Array(parts[1].utf8))!)!
        #expect(
            claims
                == .object([
                    "sub": .string(self.id.description), "aud": .string("svc"),
                    "exp": .int(TestKeys.epoch / 1000 + 1 + 300), "iat": .int(TestKeys.epoch / 1000 + 1),
                ]))
        #expect(svid.expiresAt - svid.issuedAt == 300)
        #expect(!"\(svid)".contains(svid.token.unredacted))
    }

    @Test("the lifetime is capped by the signing key's")
    func capsTTL() throws {
        let now = self.key.notAfter - 60_000
        let svid = try JWTSVIDMinter.mintAndVerify(
            spiffeID: self.id, audience: ["a", "b"], ttl: 3_600_000, now: now, key: self.key, validator: self.validator)
        #expect(svid.expiresAt == self.key.notAfter / 1000)
        let validated = try self.validator.validate(svid.token.unredacted, audience: "b", now: now)
        #expect(validated.audience == ["a", "b"])
    }

    @Test("an empty audience is refused")
    func requiresAudience() {
        #expect(throws: LatchError(.invalidInput, "")) {
            try JWTSVIDMinter.mintAndVerify(spiffeID: self.id, audience: [], ttl: 1000, now: TestKeys.epoch, key: self.key, validator: self.validator)
        }
    }

    @Test("minting with a validator that does not know the key fails re-validation")
    func revalidates() {
        let stranger = JWTSVIDValidator(trustDomain: TestKeys.trustDomain, keys: [:])
        #expect(throws: LatchError(.mintedCredentialInvalid, "")) {
            try JWTSVIDMinter.mintAndVerify(spiffeID: self.id, audience: ["svc"], ttl: 1000, now: TestKeys.epoch, key: self.key, validator: stranger)
        }
    }
}
