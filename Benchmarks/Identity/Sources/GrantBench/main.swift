// Task grants: minted (sign, not durable) and verified on the hot path (grant signature, claims,
// audience, revocation index, DPoP proof with its own signature and replay cache), per CPU
// second, side by side with raw swift-crypto P-256 sign and verify in the same run. The hot path
// is measured with and without the verified-grant cache (an agent reuses one grant for many
// calls: with the cache only the DPoP proof's signature is checked per call).
import BenchSupport
import Crypto
import Foundation
import LatchCore
import LatchGrants
import LatchIdentity

let now = SystemWallClock().now().milliseconds
let trustDomain = TrustDomain(unchecked: "bench.test")
var signingKey = try CAKey.generate(purpose: .jwtSigning, trustDomain: trustDomain, now: now - 1000, lifetime: 86_400_000)
signingKey.state = .active
let key = signingKey
let agentKey = P256.Signing.PrivateKey()
let issuer = "https://latch.bench"
let uri = "https://gateway.bench/mcp"
let grant = TaskGrant(
    id: "g-bench", taskID: "task", subject: try SPIFFEID(parsing: "spiffe://bench.test/agents/a"), audience: ["gateway"],
    intent: "bench", scope: GrantScope(tools: ["search"], dataDomains: ["kb"], destinations: ["internal"], maxSensitivity: .internal),
    issuedAt: now, expiresAt: now + 3_600_000, keyThumbprint: CAKey.thumbprint(of: agentKey.publicKey))

func makeVerifier(cached: Bool) -> GrantVerifier {
    GrantVerifier(
        issuer: issuer, keys: [key.keyID: key.publicKey], revocations: RevocationIndex(),
        dpop: DPoPVerifier(replayCache: DPoPReplayCache(), maxAge: 3_600_000), verified: cached ? VerifiedGrantCache() : nil)
}
let token = try GrantToken.mint(grant, issuer: issuer, key: key)
let ath = Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8))))
let jwk = Array(agentKey.publicKey.x963Representation)
let header = Base64URL.encode(
    JSONValue.object([
        "typ": .string("dpop+jwt"), "alg": .string("ES256"),
        "jwk": .object([
            "kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(jwk[1..<33])), "y": .string(Base64URL.encode(jwk[33..<65])),
        ]),
    ]).serializedBytes)

/// Fresh proofs (unique jti), made before timing: the client's cost is not the server's.
func proofs(_ count: Int) throws -> [String] {
    try (0..<count).map { i in
        let claims = JSONValue.object([
            "jti": .string("p\(i)"), "htm": .string("POST"), "htu": .string(uri), "iat": .int(now / 1000), "ath": .string(ath),
        ])
        let input = header + "." + Base64URL.encode(claims.serializedBytes)
        return input + "." + Base64URL.encode(Array(try agentKey.signature(for: Array(input.utf8)).rawRepresentation))
    }
}
let budget = Int(ProcessInfo.processInfo.environment["BENCH_PROOFS"] ?? "") ?? 120_000
let proofPool = try proofs(budget)
let request = DPoPRequest(method: "POST", uri: uri)

var sink = 0
let rawKey = P256.Signing.PrivateKey()
let message = Array(token.utf8.prefix(400))
let rawSignature = try rawKey.signature(for: message)
let sign1 = try rate { sink &+= try rawKey.signature(for: message).rawRepresentation.count }
let verify1 = rate { sink &+= rawKey.publicKey.isValidSignature(rawSignature, for: message) ? 1 : 0 }

var next = 0
@MainActor func hotPath(_ verifier: GrantVerifier) throws -> Double {
    try rate {
        guard next < proofPool.count else { fatalError("raise BENCH_PROOFS") }
        sink &+= try verifier.verify(token, audience: "gateway", proof: proofPool[next], request: request, now: now).depth
        next += 1
    }
}
let uncached = try hotPath(makeVerifier(cached: false))
let cached = try hotPath(makeVerifier(cached: true))
let mint = try rate { sink &+= try GrantToken.mint(grant, issuer: issuer, key: key).utf8.count }
let sign2 = try rate { sink &+= try rawKey.signature(for: message).rawRepresentation.count }
let verify2 = rate { sink &+= rawKey.publicKey.isValidSignature(rawSignature, for: message) ? 1 : 0 }
let sign = max(sign1, sign2)
let verify = max(verify1, verify2)

print("Task grants (ops per CPU second, median of \(rounds) rounds of \(roundSeconds) s)")
print(pad("raw P-256 sign", 52) + String(Int(sign)))
print(pad("raw P-256 verify", 52) + String(Int(verify)))
print(pad("grant mint (sign; not durable)", 52) + pad(String(Int(mint)), 10) + pct(mint / sign) + " of raw sign")
print(pad("hot path, verified-grant cache (1 ECDSA verify)", 52) + pad(String(Int(cached)), 10) + pct(cached / verify) + " of raw verify")
print(pad("hot path, no cache (2 ECDSA verifies)", 52) + pad(String(Int(uncached)), 10) + pct(uncached / verify) + " of raw verify")
if sink == 42 { print("") }
