import Crypto
import LatchCore
import LatchIdentity
import LatchTesting
import Testing

@testable import LatchGrants

@Suite("DPoPVerifier")
struct DPoPVerifierTests {
    func verifier() -> DPoPVerifier { DPoPVerifier(replayCache: DPoPReplayCache()) }
    let request = DPoPRequest(method: "POST", uri: ProofBuilder.uri)

    @Test("a well-formed proof is accepted once; its jti cannot be replayed")
    func acceptOnceThenReplay() throws {
        let verifier = self.verifier()
        let builder = ProofBuilder()
        let proof = try builder.build()
        let verified = try verifier.verify(proof, for: self.request, now: ProofBuilder.now)
        #expect(verified.keyThumbprint == builder.thumbprint)
        #expect(verified.jti == "jti-1")
        #expect(throws: LatchError(.replayedDPoPProof, "")) { try verifier.verify(proof, for: self.request, now: ProofBuilder.now + 1000) }
    }

    @Test("the URI is compared without query and fragment, scheme and host case-insensitively, default port dropped")
    func uriNormalization() throws {
        let verifier = self.verifier()
        let builder = ProofBuilder(uri: "HTTPS://Gateway.Example:443/mcp/tools/call")
        let request = DPoPRequest(method: "POST", uri: ProofBuilder.uri + "?session=1#frag")
        #expect(try verifier.verify(try builder.build(), for: request, now: ProofBuilder.now).jti == "jti-1")
    }

    @Test(
        "two URIs are the same only when both are absolute http(s) URIs that normalize alike",
        arguments: [
            ("https://gateway.example/mcp", "https://gateway.example/mcp", true),
            ("HTTPS://Gateway.Example:443/mcp?x=1", "https://gateway.example/mcp#f", true),
            ("http://gateway.example:80", "http://gateway.example/", true),
            ("http://127.0.0.1:8080/mcp", "http://127.0.0.1:8080/mcp?a#b", true),
            ("https://gateway.example/MCP", "https://gateway.example/mcp", false),
            ("http://gateway.example:8080/mcp", "http://gateway.example/mcp", false),
            ("http://gateway.example/mcp", "https://gateway.example/mcp", false),
            ("ftp://gateway.example/mcp", "ftp://gateway.example/mcp", false),
            ("https://user@gateway.example/mcp", "https://user@gateway.example/mcp", false),
            ("gateway.example/mcp", "gateway.example/mcp", false),
            ("https:///mcp", "https:///mcp", false),
            ("https://?://x/", "https://?://x/", false),
        ])
    func sameURI(_ a: String, _ b: String, _ same: Bool) {
        #expect(DPoPVerifier.sameURI(a, b) == same)
        #expect(DPoPVerifier.sameURI(b, a) == same)
    }

    @Test("with an access token, ath and the key binding (cnf.jkt) must match")
    func accessTokenBinding() throws {
        let token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
        var builder = ProofBuilder()
        builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8)))))
        let bound = DPoPRequest(method: "POST", uri: ProofBuilder.uri, accessToken: Redacted(token), boundThumbprint: builder.thumbprint)
        #expect(try self.verifier().verify(try builder.build(), for: bound, now: ProofBuilder.now).keyThumbprint == builder.thumbprint)

        // The same proof with a grant bound to another key: a stolen grant without its key.
        let other = DPoPRequest(
            method: "POST", uri: ProofBuilder.uri, accessToken: Redacted(token),
            boundThumbprint: CAKey.thumbprint(of: P256.Signing.PrivateKey().publicKey))
        #expect(throws: LatchError(.invalidDPoPProof, "")) { try self.verifier().verify(try builder.build(), for: other, now: ProofBuilder.now) }
        // ath of another token.
        let otherToken = DPoPRequest(method: "POST", uri: ProofBuilder.uri, accessToken: Redacted(token + "x"), boundThumbprint: builder.thumbprint)
        #expect(throws: LatchError(.invalidDPoPProof, "")) {
            try self.verifier().verify(try builder.build(), for: otherToken, now: ProofBuilder.now)
        }
        // No ath at all.
        builder.claims["ath"] = nil
        #expect(throws: LatchError(.invalidDPoPProof, "")) { try self.verifier().verify(try builder.build(), for: bound, now: ProofBuilder.now) }
    }

    /// One broken proof per row, with the error code it must get.
    static let broken: [(String, @Sendable (inout ProofBuilder) -> Void, LatchError.Code)] = [
        ("typ JWT", { $0.header["typ"] = .string("JWT") }, .invalidDPoPProof),
        ("no typ", { $0.header["typ"] = nil }, .invalidDPoPProof),
        ("alg none", { $0.header["alg"] = .string("none") }, .algNone),
        ("alg HS256", { $0.header["alg"] = .string("HS256") }, .algHMAC),
        ("alg EdDSA", { $0.header["alg"] = .string("EdDSA") }, .algEdDSA),
        ("alg RS256", { $0.header["alg"] = .string("RS256") }, .algRSA),
        ("no jwk", { $0.header["jwk"] = nil }, .invalidDPoPProof),
        (
            "jwk with the private key",
            { b in
                var jwk = ProofBuilder.jwk(b.key.publicKey).objectValue ?? [:]
                jwk["d"] = .string(Base64URL.encode(Array(b.key.rawRepresentation)))
                b.header["jwk"] = .object(jwk)
            }, .invalidDPoPProof
        ),
        (
            "jwk on another curve",
            { b in
                var jwk = ProofBuilder.jwk(b.key.publicKey).objectValue ?? [:]
                jwk["crv"] = .string("P-384")
                b.header["jwk"] = .object(jwk)
            }, .invalidDPoPProof
        ),
        ("signed by another key", { $0.signer = P256.Signing.PrivateKey() }, .badSignature),
        ("no jti", { $0.claims["jti"] = nil }, .invalidDPoPProof),
        ("empty jti", { $0.claims["jti"] = .string("") }, .invalidDPoPProof),
        ("wrong method", { $0.claims["htm"] = .string("GET") }, .invalidDPoPProof),
        ("lowercase method", { $0.claims["htm"] = .string("post") }, .invalidDPoPProof),
        ("wrong path", { $0.claims["htu"] = .string("https://gateway.example/mcp/tools/list") }, .invalidDPoPProof),
        ("wrong host", { $0.claims["htu"] = .string("https://evil.example/mcp/tools/call") }, .invalidDPoPProof),
        ("http instead of https", { $0.claims["htu"] = .string("http://gateway.example/mcp/tools/call") }, .invalidDPoPProof),
        ("no htu", { $0.claims["htu"] = nil }, .invalidDPoPProof),
        ("iat too old", { $0.claims["iat"] = .int(ProofBuilder.now / 1000 - 120) }, .invalidDPoPProof),
        ("iat in the future", { $0.claims["iat"] = .int(ProofBuilder.now / 1000 + 60) }, .invalidDPoPProof),
        ("iat a string", { $0.claims["iat"] = .string("now") }, .invalidDPoPProof),
        ("ath without a token", { $0.claims["ath"] = .string("abc") }, .invalidDPoPProof),
    ]

    @Test("each broken proof is refused with its own check", arguments: 0..<Self.broken.count)
    func brokenProofs(index: Int) throws {
        let (name, breakIt, code) = Self.broken[index]
        var builder = ProofBuilder()
        breakIt(&builder)
        let verifier = self.verifier()
        #expect(throws: LatchError(code, ""), "\(name)") { try verifier.verify(try builder.build(), for: self.request, now: ProofBuilder.now) }
        // Nothing was recorded: a refused proof cannot burn a jti.
        #expect(verifier.replayCache.count == 0, "\(name)")
    }

    @Test("malformed and oversized proofs are refused")
    func malformed() {
        let verifier = self.verifier()
        for text in ["", "a.b", "a.b.c.d", "!!!.e30.e30", String(repeating: "a", count: 9000) + ".b.c"] {
            #expect(throws: LatchError.self) { try verifier.verify(text, for: self.request, now: ProofBuilder.now) }
        }
    }

    @Test("the replay cache forgets a jti once its proof is too old anyway, and refuses when full")
    func replayCache() {
        let cache = DPoPReplayCache(capacity: 2)
        #expect(cache.insert("a", until: 100, now: 0))
        #expect(!cache.insert("a", until: 100, now: 50))
        #expect(cache.insert("b", until: 100, now: 50))
        #expect(!cache.insert("c", until: 200, now: 60), "full: fail closed")
        #expect(cache.insert("a", until: 300, now: 150), "expired entries are swept")
    }
}
