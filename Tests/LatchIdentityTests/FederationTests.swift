import Crypto
import LatchCore
import LatchTesting
import Testing
import _CryptoExtras

@testable import LatchIdentity

@Suite("FederatedTokenVerifier")
struct FederationTests {
    static let rsaKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let ecKey = TestKeys.p256("issuer-ec")
    let ecKey2 = TestKeys.p256("issuer-ec-2")
    let issuer = FederatedIssuer(
        alias: "k8s", issuerURL: "https://kubernetes.default.svc", audience: "latch",
        jwksURL: "https://k8s/jwks", claimMappings: ["kubernetes.io/namespace": "ns", "groups": "group"])
    let now = TestKeys.epoch
    var nowSeconds: Int64 { self.now / 1000 }

    func ecJWK(_ key: P256.Signing.PrivateKey, kid: String) -> JSONValue {
        var jwk = TrustBundle.ecJWK(key.publicKey)
        jwk["kid"] = .string(kid)
        jwk["use"] = .string("sig")
        return .object(jwk)
    }

    func rsaJWK(kid: String) throws -> JSONValue {
        let p = try Self.rsaKey.publicKey.getKeyPrimitives()
        return .object([
            "kty": .string("RSA"), "kid": .string(kid), "n": .string(Base64URL.encode(Array(p.modulus))),
            "e": .string(Base64URL.encode(Array(p.publicExponent))),
        ])
    }

    func jwks(_ keys: [JSONValue]) -> [UInt8] { JSONValue.object(["keys": .array(keys)]).serializedBytes }

    var claims: [String: JSONValue] {
        [
            "iss": .string("https://kubernetes.default.svc"), "aud": .array([.string("latch")]), "sub": .string("system:serviceaccount:prod:agent"),
            "exp": .int(self.nowSeconds + 600), "iat": .int(self.nowSeconds), "nbf": .int(self.nowSeconds),
            "kubernetes.io": .object(["namespace": .string("prod")]), "groups": .array([.string("a"), .string("b")]),
        ]
    }

    func token(alg: String = "ES256", kid: String, claims: [String: JSONValue]? = nil, ec: P256.Signing.PrivateKey? = nil) throws -> String {
        let input =
            Base64URL.encode(JSONValue.object(["alg": .string(alg), "kid": .string(kid)]).serializedBytes) + "."
            + Base64URL.encode(JSONValue.object(claims ?? self.claims).serializedBytes)
        let signature: [UInt8]
        if alg == "RS256" {
            signature = Array(try Self.rsaKey.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation)
        } else {
            signature = Array(try (ec ?? self.ecKey).signature(for: Array(input.utf8)).rawRepresentation)
        }
        return input + "." + Base64URL.encode(signature)
    }

    func verifier(_ keys: [JSONValue]) -> (FederatedTokenVerifier, FakeJWKSFetcher) {
        let fetcher = FakeJWKSFetcher(["https://k8s/jwks": self.jwks(keys)])
        return (FederatedTokenVerifier(issuer: self.issuer, fetcher: fetcher), fetcher)
    }

    @Test("an ES256 token becomes oidc selectors from sub and the mapped claims")
    func es256Selectors() async throws {
        let (verifier, _) = self.verifier([self.ecJWK(self.ecKey, kid: "ec1")])
        let selectors = try await verifier.verify(try self.token(kid: "ec1"), now: self.now)
        #expect(
            selectors.map(\.description) == [
                "oidc:k8s:group:a", "oidc:k8s:group:b", "oidc:k8s:ns:prod", "oidc:k8s:sub:system:serviceaccount:prod:agent",
            ])
    }

    @Test("an RS256 token verifies against the RSA key of the JWKS")
    func rs256() async throws {
        let (verifier, _) = self.verifier([try self.rsaJWK(kid: "rsa1")])
        #expect(try await verifier.verify(try self.token(alg: "RS256", kid: "rsa1"), now: self.now).count == 4)
    }

    @Test("the JWKS is cached; an unknown kid triggers one refetch, rate-limited")
    func refetchOnUnknownKid() async throws {
        let (verifier, fetcher) = self.verifier([self.ecJWK(self.ecKey, kid: "ec1")])
        _ = try await verifier.verify(try self.token(kid: "ec1"), now: self.now)
        _ = try await verifier.verify(try self.token(kid: "ec1"), now: self.now + 1000)
        #expect(fetcher.fetches == 1)
        // The issuer rotates; a token with the new kid arrives after the minimum interval.
        fetcher.set(url: "https://k8s/jwks", jwks: self.jwks([self.ecJWK(self.ecKey, kid: "ec1"), self.ecJWK(self.ecKey2, kid: "ec2")]))
        _ = try await verifier.verify(try self.token(kid: "ec2", ec: self.ecKey2), now: self.now + 40_000)
        #expect(fetcher.fetches == 2)
        // Forged kids right after: at most one fetch per interval.
        await #expect(throws: LatchError(.unknownKid, "")) { try await verifier.verify(try self.token(kid: "forged"), now: self.now + 41_000) }
        await #expect(throws: LatchError(.unknownKid, "")) { try await verifier.verify(try self.token(kid: "forged2"), now: self.now + 42_000) }
        #expect(fetcher.fetches == 2)
        await #expect(throws: LatchError(.unknownKid, "")) { try await verifier.verify(try self.token(kid: "forged3"), now: self.now + 80_000) }
        #expect(fetcher.fetches == 3)
    }

    @Test("the cache expires after cacheTTL")
    func cacheTTL() async throws {
        let (verifier, fetcher) = self.verifier([self.ecJWK(self.ecKey, kid: "ec1")])
        var claims = self.claims
        claims["exp"] = .int(self.nowSeconds + 7200)
        _ = try await verifier.verify(try self.token(kid: "ec1", claims: claims), now: self.now)
        _ = try await verifier.verify(try self.token(kid: "ec1", claims: claims), now: self.now + 3_600_000)
        #expect(fetcher.fetches == 2)
    }

    static let rejections: [(String, LatchError.Code)] = [
        ("iss", .issuerMismatch), ("aud", .audienceMismatch), ("exp", .expired), ("nbf", .notYetValid),
        ("noiss", .missingClaim), ("nosub", .missingClaim), ("hs256", .algHMAC), ("rsKidForES", .badSignature),
        ("forgedSig", .badSignature), ("none", .algNone),
    ]

    @Test("bad issuer tokens are rejected with their code", arguments: rejections)
    func rejects(name: String, code: LatchError.Code) async throws {
        let (verifier, _) = self.verifier([self.ecJWK(self.ecKey, kid: "ec1"), try self.rsaJWK(kid: "rsa1")])
        var claims = self.claims
        var token: String
        switch name {
        case "iss": claims["iss"] = .string("https://evil")
        case "aud": claims["aud"] = .string("other")
        case "exp": claims["exp"] = .int(self.nowSeconds - 120)
        case "nbf": claims["nbf"] = .int(self.nowSeconds + 3600)
        case "noiss": claims["iss"] = nil
        case "nosub": claims["sub"] = nil
        default: break
        }
        token = try self.token(kid: "ec1", claims: claims)
        switch name {
        case "hs256", "none":
            let parts = token.split(separator: ".")
            token =
                Base64URL.encode(JSONValue.object(["alg": .string(name == "none" ? "none" : "HS256"), "kid": .string("ec1")]).serializedBytes)
                + "." + parts[1] + "." + parts[2]
        case "rsKidForES": token = try self.token(kid: "rsa1")
        case "forgedSig": token = try self.token(kid: "ec1", ec: self.ecKey2)
        default: break
        }
        await #expect(throws: LatchError(code, "")) { try await verifier.verify(token, now: self.now) }
    }

    @Test("an unreachable JWKS is reported as jwksUnavailable")
    func unavailable() async throws {
        let verifier = FederatedTokenVerifier(issuer: self.issuer, fetcher: FakeJWKSFetcher())
        await #expect(throws: LatchError(.jwksUnavailable, "")) { try await verifier.verify(try self.token(kid: "ec1"), now: self.now) }
    }
}
