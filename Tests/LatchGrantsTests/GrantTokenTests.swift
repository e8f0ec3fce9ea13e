import Crypto
import Foundation
import LatchCore
import LatchIdentity
import LatchTesting
import Testing

@testable import LatchGrants

@Suite("Grant tokens: minting, hot-path verification, revocation")
struct GrantTokenTests {
    static let now = ProofBuilder.now
    static let issuer = "https://latch.test"
    static let key: CAKey = {
        guard
            var key = try? CAKey.generate(
                purpose: .jwtSigning, trustDomain: TrustDomain(unchecked: "latch.test"), now: now - 1000, lifetime: 86_400_000)
        else { fatalError("fixture") }
        key.state = .active
        return key
    }()

    static func verifier(_ revocations: RevocationIndex = RevocationIndex()) -> GrantVerifier {
        GrantVerifier(
            issuer: issuer, keys: [key.keyID: key.publicKey], revocations: revocations, dpop: DPoPVerifier(replayCache: DPoPReplayCache()))
    }

    static func rootGrant(holderKey: P256.Signing.PrivateKey) -> TaskGrant {
        var grant = DelegationTests.parent
        grant.keyThumbprint = CAKey.thumbprint(of: holderKey.publicKey)
        return grant
    }

    /// A DPoP proof by `key` for the gateway request, bound to `token`.
    static func proof(_ key: P256.Signing.PrivateKey, token: String, jti: String = UUID().uuidString) throws -> String {
        var builder = ProofBuilder(jti: jti)
        builder.key = key
        builder.header["jwk"] = ProofBuilder.jwk(key.publicKey)
        builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8)))))
        return try builder.build()
    }

    static let request = DPoPRequest(method: "POST", uri: ProofBuilder.uri)

    @Test("the direct claims writer gives the bytes of the generic JSON serializer, for root and delegated grants")
    func claimsWriter() throws {
        var root = DelegationTests.parent
        root.intent = "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 漢"
        var grants = [root]
        root.mayAct = nil
        root.actors = []
        grants.append(root)
        let child = try DelegationPolicy().delegate(
            DelegationTests.parent, DelegationTests.request(DelegationTests.researcher), id: "g-child", now: Self.now)
        let grandchild = try DelegationPolicy().delegate(child, DelegationTests.request(DelegationTests.summarizer), id: "g-2", now: Self.now)
        grants += [child, grandchild]
        for grant in grants {
            let direct = grant.claimsJSON(issuer: Self.issuer)
            #expect(direct == grant.claims(issuer: Self.issuer).serializedBytes, "\(String(decoding: direct, as: UTF8.self))")
            #expect(try TaskGrant(claims: try #require(JSONValue(parsing: direct))) == grant)
        }
    }

    @Test("a minted grant verifies with its holder's DPoP proof and decodes to itself; a delegated one carries the act chain")
    func roundTrip() throws {
        let agentKey = P256.Signing.PrivateKey()
        let verifier = Self.verifier()
        let root = Self.rootGrant(holderKey: agentKey)
        let token = try GrantToken.mint(root, issuer: Self.issuer, key: Self.key)
        #expect(
            try verifier.verify(token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
                == root)

        let actorKey = P256.Signing.PrivateKey()
        let child = try DelegationPolicy().delegate(
            root, DelegationRequest(actor: DelegationTests.researcher, actorKeyThumbprint: CAKey.thumbprint(of: actorKey.publicKey)),
            id: "g-child", now: Self.now)
        let grandchild = try DelegationPolicy().delegate(
            child, DelegationRequest(actor: DelegationTests.summarizer, actorKeyThumbprint: CAKey.thumbprint(of: agentKey.publicKey)),
            id: "g-grandchild", now: Self.now)
        let childToken = try GrantToken.mint(grandchild, issuer: Self.issuer, key: Self.key)
        let decoded = try verifier.verify(
            childToken, audience: "audit", proof: try Self.proof(agentKey, token: childToken), request: Self.request, now: Self.now)
        #expect(decoded.actors == [DelegationTests.summarizer, DelegationTests.researcher])
        #expect(decoded.ancestors == ["g-root", "g-child"])
        #expect(decoded == grandchild)
    }

    @Test("a stolen grant is useless without its key; wrong audience, issuer, typ, expiry and signature are refused")
    func refusals() throws {
        let agentKey = P256.Signing.PrivateKey()
        let verifier = Self.verifier()
        let token = try GrantToken.mint(Self.rootGrant(holderKey: agentKey), issuer: Self.issuer, key: Self.key)
        let thief = P256.Signing.PrivateKey()
        #expect(throws: LatchError(.invalidDPoPProof, "")) {
            try verifier.verify(token, audience: "gateway", proof: try Self.proof(thief, token: token), request: Self.request, now: Self.now)
        }
        #expect(throws: LatchError(.audienceMismatch, "")) {
            try verifier.verify(token, audience: "billing", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
        }
        #expect(throws: LatchError(.expired, "")) { try verifier.decode(token, now: Self.now + 400_000) }
        let other = GrantVerifier(
            issuer: "https://elsewhere", keys: verifier.keys, revocations: RevocationIndex(), dpop: DPoPVerifier(replayCache: DPoPReplayCache()))
        #expect(throws: LatchError(.issuerMismatch, "")) { try other.decode(token, now: Self.now) }
        let stranger = GrantVerifier(
            issuer: Self.issuer, keys: [Self.key.keyID: P256.Signing.PrivateKey().publicKey], revocations: RevocationIndex(),
            dpop: DPoPVerifier(replayCache: DPoPReplayCache()))
        #expect(throws: LatchError(.badSignature, "")) { try stranger.decode(token, now: Self.now) }
        // The same claims as a plain JWT (typ JWT) are not a grant.
        let parts = token.split(separator: ".")
        let jwtHeader = Base64URL.encode(Array(#"{"alg":"ES256","kid":"\#(Self.key.keyID)","typ":"JWT"}"#.utf8))
        #expect(throws: LatchError(.badTyp, "")) { try verifier.decode(jwtHeader + "." + parts[1] + "." + parts[2], now: Self.now) }
    }

    @Test("revoking a root revokes a tree of 10,000 descendants at once; none verifies afterwards")
    func cascade() throws {
        let agentKey = P256.Signing.PrivateKey()
        let revocations = RevocationIndex()
        let verifier = Self.verifier(revocations)
        var root = Self.rootGrant(holderKey: agentKey)
        root.mayAct = nil
        let policy = DelegationPolicy()
        var descendants: [TaskGrant] = []
        for i in 0..<100 {
            let child = try policy.delegate(
                root, DelegationRequest(actor: DelegationTests.id("agents/a\(i)"), actorKeyThumbprint: root.keyThumbprint), id: "c\(i)", now: Self.now
            )
            descendants.append(child)
            for j in 0..<99 {
                descendants.append(
                    try policy.delegate(
                        child, DelegationRequest(actor: DelegationTests.id("agents/b\(j)"), actorKeyThumbprint: root.keyThumbprint),
                        id: "c\(i)-\(j)", now: Self.now))
            }
        }
        #expect(descendants.count == 10_000)
        #expect(descendants.allSatisfy { !revocations.isRevoked($0) })
        let signed = try descendants.filter { ["c7", "c42-98", "c99-0"].contains($0.id) }.map { grant in
            try GrantToken.mint(grant, issuer: Self.issuer, key: Self.key)
        }
        for token in signed {
            _ = try verifier.verify(token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
        }

        let clock = ContinuousClock()
        let started = clock.now
        revocations.revoke(root.id, expiresAt: root.expiresAt)
        let revokeTime = started.duration(to: clock.now)
        let checked = clock.now
        #expect(descendants.allSatisfy { revocations.isRevoked($0) })
        print("cascade: revoking the root took \(revokeTime); checking 10,000 descendants took \(checked.duration(to: clock.now))")
        #expect(revocations.count == 1)
        for token in signed {
            #expect(throws: LatchError(.grantRevoked, "")) {
                try verifier.verify(token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
            }
        }
        // Expired revocations are swept; descendants never outlive the root, so nothing revoked returns.
        #expect(revocations.sweep(before: root.expiresAt + 1) == 1)
    }

    @Test("with the verified-grant cache, audience, expiry, revocation and DPoP are still checked on every call")
    func verifiedCache() throws {
        let agentKey = P256.Signing.PrivateKey()
        let revocations = RevocationIndex()
        let cache = VerifiedGrantCache()
        let verifier = GrantVerifier(
            issuer: Self.issuer, keys: [Self.key.keyID: Self.key.publicKey], revocations: revocations,
            dpop: DPoPVerifier(replayCache: DPoPReplayCache()), verified: cache)
        let grant = Self.rootGrant(holderKey: agentKey)
        let token = try GrantToken.mint(grant, issuer: Self.issuer, key: Self.key)
        for _ in 0..<2 {
            #expect(
                try verifier.verify(token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
                    == grant)
        }
        #expect(throws: LatchError(.invalidDPoPProof, "")) {
            try verifier.verify(
                token, audience: "gateway", proof: try Self.proof(P256.Signing.PrivateKey(), token: token), request: Self.request, now: Self.now)
        }
        #expect(throws: LatchError(.audienceMismatch, "")) {
            try verifier.verify(token, audience: "billing", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
        }
        #expect(throws: LatchError(.expired, "")) {
            try verifier.verify(
                token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now + 400_000)
        }
        // A tampered signature is a different token: not found in the cache, and refused.
        let tampered = String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA")
        #expect(throws: LatchError(.badSignature, "")) {
            try verifier.verify(tampered, audience: "gateway", proof: try Self.proof(agentKey, token: tampered), request: Self.request, now: Self.now)
        }
        revocations.revoke(grant.id, expiresAt: grant.expiresAt)
        #expect(throws: LatchError(.grantRevoked, "")) {
            try verifier.verify(token, audience: "gateway", proof: try Self.proof(agentKey, token: token), request: Self.request, now: Self.now)
        }
    }

    @Test("PyJWT verifies a grant using only the published JWKS")
    func pyjwtVerifies() throws {
        let agentKey = P256.Signing.PrivateKey()
        let grant = Self.rootGrant(holderKey: agentKey)
        // Real time for PyJWT's exp check: a grant issued now, by a key valid now.
        let wallNow = SystemWallClock().now().milliseconds
        var liveKey = try CAKey.generate(
            purpose: .jwtSigning, trustDomain: TrustDomain(unchecked: "latch.test"), now: wallNow - 1000, lifetime: 86_400_000)
        liveKey.state = .active
        var live = grant
        live.issuedAt = wallNow
        live.expiresAt = wallNow + 300_000
        let liveToken = try GrantToken.mint(live, issuer: Self.issuer, key: liveKey)
        let bundle = TrustBundle(trustDomain: TrustDomain(unchecked: "latch.test"), keys: [liveKey], sequence: 1, refreshHint: 300)
        let input = JSONValue.object([
            "jwks": bundle.jwks, "token": .string(liveToken), "audience": .string("gateway"), "issuer": .string(Self.issuer),
        ])
        let output = try DPoPInteropTests.runPython("verify_grant.py", input: input.serializedBytes)
        let answer = try #require(JSONValue(parsing: Array(output)))
        #expect(answer["error"] == nil, "\(answer)")
        #expect(answer["claims"]?["sub"]?.stringValue == grant.subject.description)
        #expect(answer["claims"]?["jti"]?.stringValue == grant.id)
        #expect(answer["claims"]?["cnf"]?["jkt"]?.stringValue == grant.keyThumbprint)
    }
}
