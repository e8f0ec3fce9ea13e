import Crypto
import Foundation
import LatchCore
import LatchTesting
import Testing

@testable import LatchIdentity

@Suite("TrustBundle")
struct TrustBundleTests {
    let ca = TestKeys.x509Authority()
    let jwt = TestKeys.jwtKey()

    var bundle: TrustBundle {
        var prepared = TestKeys.jwtKey(seed: "prepared")
        prepared.state = .prepared
        return TrustBundle(trustDomain: TestKeys.trustDomain, keys: [self.jwt, self.ca, prepared], sequence: 7, refreshHint: 300)
    }

    @Test("the SPIFFE bundle lists x509-svid keys with x5c and jwt-svid keys with kid, not prepared keys")
    func spiffeFormat() throws {
        let json = self.bundle.spiffeBundle
        #expect(json["spiffe_sequence"] == .int(7))
        #expect(json["spiffe_refresh_hint"] == .int(300))
        let keys = try #require(json["keys"]?.arrayValue)
        #expect(keys.count == 2)
        let x509 = try #require(keys.first { $0["use"] == .string("x509-svid") })
        #expect(x509["kty"] == .string("EC") && x509["crv"] == .string("P-256"))
        #expect(x509["kid"] == nil)
        let x5c = try #require(x509["x5c"]?.arrayValue?.first?.stringValue)
        #expect(Base64URL.decodeStandard(x5c) == self.ca.certificateDER)
        let jwk = try #require(keys.first { $0["use"] == .string("jwt-svid") })
        #expect(jwk["kid"] == .string(self.jwt.keyID))
        let x = try #require(jwk["x"]?.stringValue.flatMap { Base64URL.decode(Array($0.utf8)) })
        let y = try #require(jwk["y"]?.stringValue.flatMap { Base64URL.decode(Array($0.utf8)) })
        #expect(try P256.Signing.PublicKey(x963Representation: [0x04] + x + y).rawRepresentation == self.jwt.publicKey.rawRepresentation)
    }

    @Test("the JSON is deterministic: same keys in any order give the same bytes, keys sorted")
    func deterministic() {
        let a = TrustBundle(trustDomain: TestKeys.trustDomain, keys: [self.jwt, self.ca], sequence: 1, refreshHint: 60)
        let b = TrustBundle(trustDomain: TestKeys.trustDomain, keys: [self.ca, self.jwt], sequence: 1, refreshHint: 60)
        #expect(a.spiffeBundle.serialized == b.spiffeBundle.serialized)
        #expect(a.spiffeBundle.serialized.hasPrefix("{\"keys\":[{\"crv\":\"P-256\",\"kty\":\"EC\",\"use\":\"x509-svid\""))
        #expect(a.spiffeBundle.serialized.hasSuffix("\"spiffe_refresh_hint\":60,\"spiffe_sequence\":1}"))
    }

    @Test("the JWKS carries alg ES256, use sig and kid; the X.509 bundle is the DER certificates")
    func jwksAndDER() throws {
        let keys = try #require(self.bundle.jwks["keys"]?.arrayValue)
        #expect(keys.count == 1)
        #expect(keys[0]["alg"] == .string("ES256") && keys[0]["use"] == .string("sig") && keys[0]["kid"] == .string(self.jwt.keyID))
        #expect(self.bundle.x509BundleDER == self.ca.certificateDER)
    }

    @Test("the bundle's validator accepts tokens of its keys")
    func validator() throws {
        let svid = try JWTSVIDMinter.mintAndVerify(
            spiffeID: try SPIFFEID(parsing: "spiffe://example.org/a"), audience: ["x"], ttl: 60_000,
            now: TestKeys.epoch, key: self.jwt, validator: self.bundle.jwtValidator())
        #expect(try self.bundle.jwtValidator().validate(svid.token.unredacted, audience: "x", now: TestKeys.epoch).keyID == self.jwt.keyID)
    }

    @Test("the OIDC discovery document advertises issuer, jwks_uri and ES256")
    func discovery() {
        let doc = OIDCDiscoveryDocument(issuer: "https://latch.example.org", jwksURI: "https://latch.example.org/keys").json
        #expect(doc["issuer"] == .string("https://latch.example.org"))
        #expect(doc["jwks_uri"] == .string("https://latch.example.org/keys"))
        #expect(doc["id_token_signing_alg_values_supported"] == .array([.string("ES256")]))
        #expect(doc.serialized.hasPrefix("{\"claims_supported\":"))
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    static let invalid: [String] = [
        "", "{", "{\"a\":1,\"a\":2}", "[1,]", "{\"a\" 1}", "01", "1.", "\"\u{01}\"", "\"\\x\"", "nul", "[1] [2]",
        "\"\\ud800\"", String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ]

    @Test("invalid JSON (and duplicate keys, deep nesting) is rejected", arguments: invalid)
    func rejects(_ text: String) {
        #expect(JSONValue(parsing: Array(text.utf8)) == nil)
    }

    @Test("values round-trip through the writer with sorted keys and escapes")
    func roundTrip() throws {
        let text = "{\"b\":[1,-2,true,null,\"x\\ny\\u0001\\\"\"],\"a\":{\"é\":\"\\ud83d\\ude00\"}}"
        let value = try #require(JSONValue(parsing: Array(text.utf8)))
        #expect(value.serialized == "{\"a\":{\"é\":\"😀\"},\"b\":[1,-2,true,null,\"x\\ny\\u0001\\\"\"]}")
        #expect(JSONValue(parsing: value.serializedBytes) == value)
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test("encoding matches RFC 4648 vectors (url alphabet, no padding)")
    func vectors() {
        let cases: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encodeStandard([0xFB, 0xFF]) == "+/8=")
    }

    @Test("encodings match Foundation's for every length up to 64, and decode back")
    func matchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let url = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encodeStandard(bytes) == standard, "length \(length)")
            #expect(Base64URL.encode(bytes) == url, "length \(length)")
            #expect(Base64URL.encode(bytes.dropFirst(0)) == url, "a slice, length \(length)")
            #expect(Base64URL.decode(Array(url.utf8)) == bytes)
            #expect(Base64URL.decodeStandard(standard) == bytes)
        }
        #expect(Base64URL.encode(Set([UInt8(7)])) == "Bw", "a collection without contiguous storage")
    }

    @Test("non-canonical or foreign input does not decode", arguments: ["Zg==", "Z", "Zh", "Zm9v+", "Zm 9v", "Zm9v/"])
    func rejects(_ text: String) {
        #expect(Base64URL.decode(Array(text.utf8)) == nil)
    }

    @Test("constant-time comparison")
    func constantTime() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2], [1, 2, 3]))
    }
}
