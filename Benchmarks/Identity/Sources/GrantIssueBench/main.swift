// Durable task-grant issuance: grants signed and committed per wall-clock second by
// `GrantAuthority.issue` (mint + group-committed insert; returned only once durable), with
// `BENCH_CONCURRENCY` (default 64) issuers at once, on SQLite (synchronous=FULL, WAL) and, when
// `LATCH_BENCH_POSTGRES_URL` is set, PostgreSQL; side by side with raw swift-crypto P-256
// signatures made with the same concurrency in the same run, rounds interleaved, medians reported.
// Also: the whole token exchange in-process (JWT-SVID check + DPoP proof check + Cedar-free allow
// decision + issuance), whose floor is one signature and two verifications.
//
// Grants are built before timing, with IDs made as the token endpoint makes them. Beside each
// wall-clock rate, the process's CPU time per operation: on a machine shared with other work, the
// wall-clock ratio depends on what else runs; the CPU ratio does not (SQLite's work happens in
// this process; PostgreSQL's server does not, so its CPU figure is the client's share only).
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
/// The postmaster's process ID (the first line of the data directory's `postmaster.pid`): when set,
/// the server's CPU time (the postmaster and its children) is read from `/proc` around each
/// PostgreSQL round.
let postgresPID = ProcessInfo.processInfo.environment["BENCH_POSTGRES_PID"].flatMap { Int32($0) }
/// `BENCH_ONLY_POSTGRES=1`: only the PostgreSQL rounds (no raw signing, SQLite or exchange), for
/// profiling that phase alone (`perf record`); prints the PostgreSQL line only.
let onlyPostgres = ProcessInfo.processInfo.environment["BENCH_ONLY_POSTGRES"] == "1"
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

/// A wall-clock rate, and the CPU time this process spent per operation meanwhile.
struct Measured: Sendable {
    var perSecond: Double
    var cpuMicroseconds: Double
}

/// Runs `count` operations with `concurrency` tasks.
func throughput(_ count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Measured {
    let start = wallSeconds()
    let startCPU = cpuSeconds()
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
    let cpu = cpuSeconds() - startCPU
    return Measured(perSecond: Double(count) / (wallSeconds() - start), cpuMicroseconds: cpu * 1e6 / Double(count))
}

/// A grant as the token endpoint makes one: IDs and times from the clock when it is made (so each
/// expiry is its own index key, as in production, not one key shared by a whole run).
func grant() -> TaskGrant {
    let made = SystemWallClock().now().milliseconds
    return TaskGrant(
        id: TaskGrant.newID(now: made), taskID: TaskGrant.newID(now: made), subject: agent, audience: ["latch-gateway"],
        intent: "summarize the pipeline",
        scope: GrantScope(tools: ["crm.lookup", "files.read"], dataDomains: ["sales"], destinations: ["internal"], maxSensitivity: .confidential),
        issuedAt: made, expiresAt: made + 300_000, keyThumbprint: agentThumbprint)
}

func authority(_ store: any LatchStore, concurrentCommits: Int = 1) -> GrantAuthority {
    var settings = GrantSettings()
    settings.concurrentCommits = concurrentCommits
    let authority = GrantAuthority(settings: settings, repository: store, decider: Allow(), clock: SystemWallClock())
    authority.setKeys(issuer: "https://latch.bench", signingKey: key, svidValidator: validator)
    return authority
}

let message = Array(try GrantToken.mint(grant(), issuer: "https://latch.bench", key: key).utf8.prefix(600))
let rawKey = P256.Signing.PrivateKey()
let logger = Logger(label: "bench")
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grant-issue-bench-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: directory) }

/// CPU seconds of `pid` and its children, live (`utime + stime` of each) and reaped (the parent's
/// `cutime + cstime`), from `/proc`; nil without `/proc`. Clock ticks: accurate to 10 ms a process.
func processTreeCPUSeconds(_ pid: Int32) -> Double? {
    func fields(_ statPath: String) -> [Substring]? {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state, ppid, …; utime is field 14 of the line, so index 11 here.
        return text[text.index(after: close)...].split(separator: " ")
    }
    func ticks(_ f: [Substring], _ indices: [Int]) -> Double { indices.reduce(0) { $0 + (Double(f[$1]) ?? 0) } }
    guard let own = fields("/proc/\(pid)/stat"), own.count > 14 else { return nil }
    var total = ticks(own, [11, 12, 13, 14])
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries where entry.first?.isNumber == true {
        guard let f = fields("/proc/\(entry)/stat"), f.count > 14, Int32(f[1]) == pid else { continue }
        total += ticks(f, [11, 12, 13, 14])
    }
    return total / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct Rates: Sendable {
    var raw: [Measured] = []
    var sqlite: [Measured] = []
    var postgres: [Measured] = []
    var exchange: [Measured] = []
    var rawExchangeFloor: [Measured] = []
    var mintOnly: [Measured] = []
    var storeOnly: [Double] = []
    /// The PostgreSQL server's CPU seconds over all PostgreSQL rounds, and the grants they issued.
    var postgresServerCPU = 0.0
    var postgresGrants = 0
}

/// Runs `body` with an authority on the PostgreSQL store, open for the whole run as a server keeps
/// it (its connections are made in the first round, not in every round), or with nil.
func withPostgres<Result: Sendable>(_ body: @Sendable (GrantAuthority?) async throws -> Result) async throws -> Result {
    guard let postgresURL else { return try await body(nil) }
    return try await StoreAccess.withStore(databaseURL: postgresURL, dataDirectory: directory, logger: logger) { store in
        try await body(authority(store, concurrentCommits: postgresCommits))
    }
}

let rates = try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { sqliteStore in
    try await withPostgres { postgresAuthority in
        var rates = Rates()
        let sqliteAuthority = authority(sqliteStore)
        for round in 0..<rounds {
            if onlyPostgres, let postgresAuthority {
                let postgresGrants = (0..<perRound).map { _ in grant() }
                rates.postgres.append(try await throughput(perRound) { i in _ = try await postgresAuthority.issue(postgresGrants[i]) })
                continue
            }
            rates.raw.append(try await throughput(perRound) { _ in _ = try rawKey.signature(for: message) })
            let sqliteGrants = (0..<perRound).map { _ in grant() }
            rates.sqlite.append(try await throughput(perRound) { i in _ = try await sqliteAuthority.issue(sqliteGrants[i]) })
            let mintGrants = (0..<perRound).map { _ in grant() }
            rates.mintOnly.append(
                try await throughput(perRound) { i in _ = try GrantToken.mint(mintGrants[i], issuer: "https://latch.bench", key: key) })
            let batch = (0..<perRound).map { _ in grant() }
            let start = wallSeconds()
            for chunk in stride(from: 0, to: batch.count, by: 256) {
                try await sqliteStore.saveGrants(Array(batch[chunk..<min(chunk + 256, batch.count)]))
            }
            rates.storeOnly.append(Double(batch.count) / (wallSeconds() - start))
            if let postgresAuthority {
                let postgresGrants = (0..<perRound).map { _ in grant() }
                let serverBefore = postgresPID.flatMap(processTreeCPUSeconds)
                rates.postgres.append(try await throughput(perRound) { i in _ = try await postgresAuthority.issue(postgresGrants[i]) })
                if let serverBefore, let serverAfter = postgresPID.flatMap(processTreeCPUSeconds) {
                    rates.postgresServerCPU += serverAfter - serverBefore
                    rates.postgresGrants += perRound
                }
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
            rates.exchange.append(
                try await throughput(count) { i in _ = try await sqliteAuthority.exchange(request, proof: proofs[i], proofTarget: target) })
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
}
let (raw, sqlite, postgres, exchange, rawExchangeFloor) = (rates.raw, rates.sqlite, rates.postgres, rates.exchange, rates.rawExchangeFloor)
let (mintOnly, storeOnly) = (rates.mintOnly, rates.storeOnly)
if onlyPostgres {
    print(line("issue + commit, PostgreSQL (CPU: client)", postgres, nil, ""))
    exit(0)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func rate(_ values: [Measured]) -> Double { median(values.map(\.perSecond)) }
func cpu(_ values: [Measured]) -> Double { median(values.map(\.cpuMicroseconds)) }
/// A line: the rate, its ratio to `base`, and CPU microseconds per operation (and the CPU ratio).
func line(_ name: String, _ values: [Measured], _ base: [Measured]?, _ what: String, cpuRatio: Bool = true) -> String {
    var text = pad(name, 52) + pad(fmt(rate(values)), 9)
    text += pad(base.map { pct(rate(values) / rate($0)) + " of " + what } ?? "", 26)
    text += pad(String(format: "%.1f", cpu(values)), 7)
    if cpuRatio, let base { text += pct(cpu(base) / cpu(values)) }
    return text
}
print("Durable grant issuance (\(concurrency) concurrent issuers, median of \(rounds) rounds of \(perRound))")
print(pad("", 52) + pad("per s", 9) + pad("wall-clock ratio", 26) + pad("CPU µs", 7) + "CPU ratio")
print(line("raw P-256 sign", raw, nil, ""))
print(line("issue + commit, SQLite (synchronous=FULL)", sqlite, raw, "raw sign"))
if !postgres.isEmpty {
    // The server's CPU is not this process's: its CPU figure is the client's share only.
    print(line("issue + commit, PostgreSQL (same machine; CPU: client)", postgres, raw, "raw sign", cpuRatio: false))
    if rates.postgresGrants > 0 {
        // Latch's and the server's CPU per grant together, against raw signing's CPU per signature:
        // the wall-clock ratio this machine's cores would give with nothing else running.
        let server = rates.postgresServerCPU * 1e6 / Double(rates.postgresGrants)
        print(
            pad("  PostgreSQL server CPU per grant (all rounds)", 52) + pad("", 35) + pad(String(format: "%.1f", server), 7)
                + pct(cpu(raw) / (cpu(postgres) + server)) + " (Latch + server)")
    }
} else {
    print("PostgreSQL: set LATCH_BENCH_POSTGRES_URL to measure it")
}
print(line("  of which: mint only (not durable)", mintOnly, raw, "raw sign"))
print(pad("  of which: SQLite inserts only (batches of 256)", 52) + fmt(median(storeOnly)))
print(line("raw sign + 2 verify (the exchange's crypto floor)", rawExchangeFloor, nil, ""))
print(line("whole token exchange, SQLite", exchange, rawExchangeFloor, "its floor"))
