// Durable task-grant issuance: grants signed and committed per wall-clock second by
// `GrantAuthority.issue` (mint + group-committed insert; returned only once durable), with
// `BENCH_CONCURRENCY` (default 64) issuers at once, on SQLite (synchronous=FULL, WAL) and, when
// `LATCH_BENCH_POSTGRES_URL` is set, PostgreSQL; side by side with raw swift-crypto P-256
// signatures made with the same concurrency in the same run, rounds interleaved, medians reported.
// Also: the whole token exchange in-process (JWT-SVID check + DPoP proof check + Cedar-free allow
// decision + issuance), whose floor is one signature and two verifications.
import BenchSupport
import Crypto
import Foundation
import LatchCore
import LatchGrants
import LatchIdentity
import LatchServer
import Logging

let concurrency = Int(ProcessInfo.processInfo.environment["BENCH_CONCURRENCY"] ?? "") ?? 64
let perRound = Int(ProcessInfo.processInfo.environment["BENCH_GRANTS"] ?? "") ?? 6_000
let postgresURL = ProcessInfo.processInfo.environment["LATCH_BENCH_POSTGRES_URL"]
let postgresCommits = Int(ProcessInfo.processInfo.environment["BENCH_POSTGRES_COMMITS"] ?? "") ?? 4
let now = SystemWallClock().now().milliseconds
let trustDomain = TrustDomain(unchecked: "bench.test")
var signingKey = try CAKey.generate(purpose: .jwtSigning, trustDomain: trustDomain, now: now - 1000, lifetime: 86_400_000)
signingKey.state = .active
let key = signingKey
let validator = JWTSVIDValidator(trustDomain: trustDomain, keys: [key.keyID: key.publicKey])
let agent = try SPIFFEID(parsing: "spiffe://bench.test/agents/a")
let agentKey = P256.Signing.PrivateKey()
let agentThumbprint = CAKey.thumbprint(of: agentKey.publicKey)

struct Allow: GrantDecider { func decide(_ question: GrantQuestion) -> GrantDecision { GrantDecision(allowed: true, policies: ["bench"]) } }

func wallSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs `count` operations with `concurrency` tasks; returns operations per wall-clock second.
func throughput(_ count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let start = wallSeconds()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var i = worker
                while i < count {
                    try await operation(i)
                    i += concurrency
                }
            }
        }
        try await group.waitForAll()
    }
    return Double(count) / (wallSeconds() - start)
}

func grant(_ i: Int, round: Int, store: String) -> TaskGrant {
    TaskGrant(
        id: "\(store)-\(round)-\(i)", taskID: "\(store)-task-\(round)-\(i)", subject: agent, audience: ["latch-gateway"],
        intent: "summarize the pipeline",
        scope: GrantScope(tools: ["crm.lookup", "files.read"], dataDomains: ["sales"], destinations: ["internal"], maxSensitivity: .confidential),
        issuedAt: now / 1000 * 1000, expiresAt: now / 1000 * 1000 + 300_000, keyThumbprint: agentThumbprint)
}

func authority(_ store: any LatchStore, concurrentCommits: Int = 1) -> GrantAuthority {
    var settings = GrantSettings()
    settings.concurrentCommits = concurrentCommits
    let authority = GrantAuthority(settings: settings, repository: store, decider: Allow(), clock: SystemWallClock())
    authority.setKeys(issuer: "https://latch.bench", signingKey: key, svidValidator: validator)
    return authority
}

let message = Array(try GrantToken.mint(grant(0, round: 0, store: "m"), issuer: "https://latch.bench", key: key).utf8.prefix(600))
let rawKey = P256.Signing.PrivateKey()
let logger = Logger(label: "bench")
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grant-issue-bench-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: directory) }

struct Rates: Sendable {
    var raw: [Double] = []
    var sqlite: [Double] = []
    var postgres: [Double] = []
    var exchange: [Double] = []
    var rawExchangeFloor: [Double] = []
    var mintOnly: [Double] = []
    var storeOnly: [Double] = []
}

let rates = try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { sqliteStore in
    var rates = Rates()
    let sqliteAuthority = authority(sqliteStore)
    for round in 0..<rounds {
        rates.raw.append(try await throughput(perRound) { _ in _ = try rawKey.signature(for: message) })
        rates.sqlite.append(try await throughput(perRound) { i in _ = try await sqliteAuthority.issue(grant(i, round: round, store: "s")) })
        rates.mintOnly.append(try await throughput(perRound) { i in _ = try GrantToken.mint(grant(i, round: round, store: "m"), issuer: "https://latch.bench", key: key) })
        let batch = (0..<perRound).map { grant($0, round: round, store: "b") }
        let start = wallSeconds()
        for chunk in stride(from: 0, to: batch.count, by: 256) { try await sqliteStore.saveGrants(Array(batch[chunk..<min(chunk + 256, batch.count)])) }
        rates.storeOnly.append(Double(batch.count) / (wallSeconds() - start))
        if let postgresURL {
            let rate = try await StoreAccess.withStore(databaseURL: postgresURL, dataDirectory: directory, logger: logger) { store in
                let postgresAuthority = authority(store, concurrentCommits: postgresCommits)
                return try await throughput(perRound) { i in _ = try await postgresAuthority.issue(grant(i, round: round, store: "p\(now)")) }
            }
            rates.postgres.append(rate)
        }
        // The whole exchange: proofs and SVIDs are made before timing (the client's cost).
        let count = perRound / 4
        let svid = try JWTSVIDMinter.sign(spiffeID: agent, audience: ["https://latch.bench"], ttl: 3_600_000, now: now, key: key).token
        let jwk = Array(agentKey.publicKey.x963Representation)
        let header = Base64URL.encode(
            JSONValue.object([
                "typ": .string("dpop+jwt"), "alg": .string("ES256"),
                "jwk": .object([
                    "kty": .string("EC"), "crv": .string("P-256"), "x": .string(Base64URL.encode(jwk[1..<33])),
                    "y": .string(Base64URL.encode(jwk[33..<65])),
                ]),
            ]).serializedBytes)
        let proofs = try (0..<count).map { i in
            let claims = JSONValue.object([
                "jti": .string("r\(round)-\(i)"), "htm": .string("POST"), "htu": .string("https://latch.bench/token"),
                "iat": .int(SystemWallClock().now().milliseconds / 1000),
            ])
            let input = header + "." + Base64URL.encode(claims.serializedBytes)
            return input + "." + Base64URL.encode(Array(try agentKey.signature(for: Array(input.utf8)).rawRepresentation))
        }
        let request = try TokenExchangeRequest(form: [
            ("grant_type", TokenExchangeRequest.grantType), ("subject_token", svid), ("subject_token_type", TokenExchangeRequest.jwtTokenType),
            ("scope", "tool:crm.lookup tool:files.read domain:sales sensitivity:confidential"), ("intent", "summarize the pipeline"),
        ])
        let target = DPoPRequest(method: "POST", uri: "https://latch.bench/token")
        rates.exchange.append(try await throughput(count) { i in _ = try await sqliteAuthority.exchange(request, proof: proofs[i], proofTarget: target) })
        let signature = try rawKey.signature(for: message)
        rates.rawExchangeFloor.append(
            try await throughput(count) { _ in
                _ = try rawKey.signature(for: message)
                _ = rawKey.publicKey.isValidSignature(signature, for: message)
                _ = rawKey.publicKey.isValidSignature(signature, for: message)
            })
    }
    return rates
}
let (raw, sqlite, postgres, exchange, rawExchangeFloor) = (rates.raw, rates.sqlite, rates.postgres, rates.exchange, rates.rawExchangeFloor)
let (mintOnly, storeOnly) = (rates.mintOnly, rates.storeOnly)

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let rawRate = median(raw)
print("Durable grant issuance (per wall-clock second, \(concurrency) concurrent issuers, median of \(rounds) rounds of \(perRound))")
print(pad("raw P-256 sign", 56) + fmt(rawRate))
print(pad("issue + commit, SQLite (synchronous=FULL)", 56) + pad(fmt(median(sqlite)), 10) + pct(median(sqlite) / rawRate) + " of raw sign")
if !postgres.isEmpty {
    print(pad("issue + commit, PostgreSQL (same machine)", 56) + pad(fmt(median(postgres)), 10) + pct(median(postgres) / rawRate) + " of raw sign")
} else {
    print("PostgreSQL: set LATCH_BENCH_POSTGRES_URL to measure it")
}
print(pad("  of which: mint only (not durable)", 56) + pad(fmt(median(mintOnly)), 10) + pct(median(mintOnly) / rawRate) + " of raw sign")
print(pad("  of which: SQLite inserts only (batches of 256)", 56) + fmt(median(storeOnly)))
print(pad("raw sign + 2 verify (the exchange's crypto floor)", 56) + fmt(median(rawExchangeFloor)))
print(
    pad("whole token exchange, SQLite", 56) + pad(fmt(median(exchange)), 10) + pct(median(exchange) / median(rawExchangeFloor))
        + " of its crypto floor")
