// MCP tool calls per second and their latency, directly to a fast upstream and through Latch's
// gateway (a real `LatchServer.run` in this process: SQLite store, Cedar policies, grants with
// DPoP), at 1, 16 and 64 concurrent sessions, rounds interleaved; then Latch's own work per call
// in-process against a loopback round trip measured in the same run. See README.md.
import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchServer
import LatchWorkloadProto
import Logging
import NIOCore
import NIOPosix

let environment = ProcessInfo.processInfo.environment
// As `latch serve` logs (its handler; the level is set per logger below).
LoggingSystem.bootstrap { label in DeferredMetadataLogHandler.standardError(label: label, level: .info) }
// BENCH_NIO_EXECUTOR=1: Swift concurrency's jobs run on NIO's event loops (no hop between the
// cooperative pool and the loops), for the load generator and Latch alike.
if environment["BENCH_NIO_EXECUTOR"] == "1" {
    guard NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() else {
        fatalError("NIO's event loops could not become the global executor")
    }
}
/// The upstream tool's own time per call, milliseconds: a run of every level for each delay.
let measuredDelays = (environment["BENCH_TOOL_MS"] ?? "0,1,5").split(separator: ",").compactMap { Int($0) }.filter { $0 >= 0 }
/// The upstream's tools: `echo` (no delay) always, for the warm-up and the loopback round trip.
let toolDelays = Array(Set([0] + measuredDelays)).sorted()

if CommandLine.arguments.dropFirst().first == "upstream" {
    try await EchoUpstream.run(toolDelays: toolDelays)
    exit(0)
}

let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 3
let levels = (environment["BENCH_SESSIONS"] ?? "1,16,64").split(separator: ",").compactMap { Int($0) }
/// Calls per round at one level (split over its sessions); one session gets `BENCH_CALLS_SINGLE`.
/// (With a tool that takes d milliseconds, 1/(1 + d) of these, so that a round stays short.)
let callsPerRound = Int(environment["BENCH_CALLS"] ?? "") ?? 12_800
let callsSingle = Int(environment["BENCH_CALLS_SINGLE"] ?? "") ?? 3_000
let inProcessCalls = Int(environment["BENCH_INPROCESS_CALLS"] ?? "") ?? 3_000
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let policyFile = environment["BENCH_POLICIES"] ?? repoRoot.appendingPathComponent("Examples/gateway/policies.cedar").path
var logger = Logger(label: "bench")
logger.logLevel = environment["BENCH_LOG"] == nil ? .warning : .debug

// `GatewayBench killswitch`: the kill switch on a task of 1,000 grants (KillSwitch.swift).
if CommandLine.arguments.dropFirst().first == "killswitch" {
    let results = try await KillSwitch.run(rounds: rounds, logger: logger)
    func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    print("kill switch on a task of \(KillSwitch.grants) grants, \(results.count) rounds (median; µs):")
    print("  the tripping call (decide, revoke and quarantine in the store, record): \(Int(median(results.map(\.trip))))")
    print("  from its answer to the next call's refusal (another grant of the tree): \(Int(median(results.map(\.tripToDenial))))")
    print("  a call with each of the \(KillSwitch.grants) grants, refused, mean: \(Int(median(results.map(\.denialMean))))")
    print("  an allowed call on a live task: \(Int(median(results.map(\.allowed))))")
    print("  ratios to the allowed call: trip \(String(format: "%.2f", median(results.map { $0.trip / $0.allowed })))x, refusal \(String(format: "%.2f", median(results.map { $0.tripToDenial / $0.allowed })))x")
    exit(0)
}

// `GatewayBench inprocess`: only the in-process figures (for profiling, e.g. under callgrind).
if CommandLine.arguments.dropFirst().first == "inprocess" {
    let result = try await InProcess.run(calls: inProcessCalls, policyFile: policyFile, logger: logger)
    for (name, sample) in [
        ("handle", result.full), ("handle, no record", result.noRecord), ("verify", result.verify), ("ES256 check", result.signature),
        ("decide", result.decide),
    ] {
        print("\(name): p50 \(sample.p50) µs, mean \(sample.mean) µs, CPU \(sample.cpuMicros) µs")
    }
    exit(0)
}

func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
}
print("load average before: \(loadAverage()) (\(ProcessInfo.processInfo.activeProcessorCount) cores)")

// The upstream: this executable in `upstream` mode, in its own process.
let upstreamProcess = Process()
upstreamProcess.executableURL = URL(fileURLWithPath: "/proc/self/exe")
upstreamProcess.arguments = ["upstream"]
let upstreamOut = Pipe()
upstreamProcess.standardOutput = upstreamOut
try upstreamProcess.run()
var upstreamLine = ""
while !upstreamLine.hasSuffix("\n") {
    let byte = upstreamOut.fileHandleForReading.readData(ofLength: 1)
    guard !byte.isEmpty else { fatalError("the upstream did not start") }
    upstreamLine += String(decoding: byte, as: UTF8.self)
}
guard upstreamLine.hasPrefix("port="), let upstreamPort = Int(upstreamLine.dropFirst(5).dropLast()) else {
    fatalError("upstream said \(upstreamLine)")
}
let upstreamURL = "http://127.0.0.1:\(upstreamPort)/mcp"

// Latch: a registered agent (this process, by uid), the example policies, the upstream.
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latch-gw-bench-\(UUID().uuidString.prefix(8))").path
let agentID = try SPIFFEID(parsing: "spiffe://bench.test/agents/bench")
var configuration = ServerConfiguration.defaults
configuration.trustDomain = try TrustDomain(parsing: "bench.test")
configuration.dataDirectory = directory + "/data"
configuration.workloadAPISocket = directory + "/api.sock"
configuration.listen = "127.0.0.1:0"
configuration.logLevel = "warning"
configuration.policies = policyFile
configuration.upstreams = [
    UpstreamConfiguration(
        name: "bench", transport: .http(url: upstreamURL, headers: [:]),
        tools: Dictionary(uniqueKeysWithValues: toolDelays.map { (EchoUpstream.toolName(milliseconds: $0), ToolLabels(sensitivity: .public)) }))
]
try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: configuration.dataDirectory, logger: logger) { store in
    try await store.createEntry(
        RegistrationEntry(
            id: "bench", spiffeID: agentID, selectors: [Selector(type: "unix", value: "uid:\(getuid())")], x509SVIDTTL: 3600, jwtSVIDTTL: 3600,
            attributes: ["team": .string("interop")], createdAt: SystemWallClock().now().milliseconds))
}
let (ready, readyContinuation) = AsyncStream<LatchServer.Endpoints>.makeStream()
let serverConfiguration = configuration
let server = Task {
    try await LatchServer.run(
        configuration: serverConfiguration, environment: ["LATCH_KEK": Data(repeating: 7, count: 32).base64EncodedString()], logger: logger,
        onReady: { readyContinuation.yield($0) })
}
var endpoints: LatchServer.Endpoints?
for await value in ready {
    endpoints = value
    break
}
guard let endpoints else { fatalError("the server did not start") }
let issuer = "http://" + endpoints.http
let latchURL = issuer + "/mcp"

var clientConfiguration = HTTPClient.Configuration()
clientConfiguration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
// The third side: a bare HTTP forwarder to the upstream (BareForwarder.swift), the ceiling of any gateway here.
let bare = try await BareForwarder.start(upstreamURL: upstreamURL, logger: logger)

/// A JWT-SVID for the agent from the Workload API (audience: the issuer, for the token exchange).
@MainActor func fetchSVID() async throws -> String {
    try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: endpoints.workloadAPISocket), transportSecurity: .plaintext)) {
        grpc in
        var request = Workload_JWTSVIDRequest()
        request.audience = [issuer]
        let response = try await Workload_SpiffeWorkloadAPI.Client(wrapping: grpc).fetchJWTSVID(request, metadata: ["workload.spiffe.io": "true"])
        guard let svid = response.svids.first?.svid else { throw BenchFailure(description: "no JWT-SVID") }
        return svid
    }
}

/// A task grant bound to `key` (RFC 8693 token exchange with a DPoP proof at `/token`).
@MainActor func exchange(svid: String, key: DPoPKey) async throws -> String {
    let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
    let form = [
        ("grant_type", TokenExchangeRequest.grantType), ("subject_token", svid), ("subject_token_type", TokenExchangeRequest.jwtTokenType),
        ("scope", (toolDelays.map { "tool:bench." + EchoUpstream.toolName(milliseconds: $0) } + ["sensitivity:internal"]).joined(separator: " ")),
        ("intent", "benchmark the gateway"), ("audience", "latch-gateway"),
    ].map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    var request = HTTPClientRequest(url: issuer + "/token")
    request.method = .POST
    request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
    request.headers.add(
        name: "dpop",
        value: try key.proof(uri: issuer + "/token", accessToken: nil, now: SystemWallClock().now().milliseconds, jti: UUID().uuidString))
    request.body = .bytes(ByteBuffer(string: form))
    let response = try await client.execute(request, timeout: .seconds(30))
    let body = try await response.body.collect(upTo: 1 << 20)
    guard response.status == .ok, let value = JSONValue(parsing: body.readableBytesView), let token = value["access_token"]?.stringValue else {
        throw BenchFailure(description: "token exchange answered \(response.status.code): \(String(buffer: body))")
    }
    return token
}

/// `count` sessions without authorization to `url` (the upstream, or the bare forwarder), calling `tool`.
@MainActor func directSessions(_ count: Int, tool: String = "echo", url: String = upstreamURL) async throws -> [BenchSession] {
    var sessions: [BenchSession] = []
    for _ in 0..<count {
        let id = try await LoadGenerator.open(client, url: url, authorization: nil, proofs: nil)
        sessions.append(BenchSession(url: url, tool: tool, sessionID: id, authorization: nil, proofs: []))
    }
    return sessions
}

var proofBatch = 0
/// `count` sessions through Latch, each with its own task grant and key, and `calls` proofs each,
/// made last (before timing: proofs are the client's cost, and live 60 s).
@MainActor func latchSessions(_ count: Int, calls: Int, tool: String = "echo") async throws -> [BenchSession] {
    let svid = try await fetchSVID()
    var opened: [(session: BenchSession, key: DPoPKey, token: String)] = []
    for _ in 0..<count {
        let key = DPoPKey()
        let token = try await exchange(svid: svid, key: key)
        proofBatch += 1
        let opening = try key.proofs(2, uri: latchURL, accessToken: token, now: SystemWallClock().now().milliseconds, prefix: "open-\(proofBatch)")
        let id = try await LoadGenerator.open(client, url: latchURL, authorization: "DPoP " + token, proofs: opening)
        opened.append((BenchSession(url: latchURL, tool: "bench." + tool, sessionID: id, authorization: "DPoP " + token, proofs: []), key, token))
    }
    let now = SystemWallClock().now().milliseconds
    return try opened.map { session, key, token in
        proofBatch += 1
        var session = session
        session.proofs = try key.proofs(calls, uri: latchURL, accessToken: token, now: now, prefix: "call-\(proofBatch)")
        return session
    }
}

/// Waits until the gateway serves the upstream's tool (it lists upstreams in the background).
@MainActor func waitForCatalog() async throws {
    let deadline = ContinuousClock.now.advanced(by: .seconds(60))
    while true {
        do {
            let sessions = try await latchSessions(1, calls: 1)
            _ = try await LoadGenerator.run(client, sessions: sessions, calls: 1)
            return
        } catch {
            guard ContinuousClock.now < deadline else { throw error }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}
func fmt(_ x: Double) -> String {
    let rounded = Int(x.rounded())
    var digits = String(rounded)
    var index = digits.count - 3
    while index > 0 {
        digits.insert(",", at: digits.index(digits.startIndex, offsetBy: index))
        index -= 3
    }
    return digits
}
func pct(_ x: Double) -> String { String(Int((x * 100).rounded())) + "%" }
func times(_ x: Double) -> String { String(format: "%.2fx", x) }
func range(_ values: [Double], _ show: (Double) -> String) -> String {
    values.count < 2 ? show(values.first ?? .nan) : "\(show(values.min() ?? .nan))–\(show(values.max() ?? .nan))"
}
func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// CPU seconds the upstream's process has used (utime + stime of /proc/<pid>/stat; 0 when unreadable).
@MainActor func upstreamCPUSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(upstreamProcess.processIdentifier)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// One round: `calls` sequential calls per session, all sessions at once, with the CPU time of
/// this process and of the upstream.
@MainActor func timedRound(_ sessions: [BenchSession], calls: Int) async throws -> RoundResult {
    let cpu = cpuSeconds()
    let upstreamCPU = upstreamCPUSeconds()
    var result = try await LoadGenerator.run(client, sessions: sessions, calls: calls)
    result.cpuSeconds = cpuSeconds() - cpu
    result.upstreamCPUSeconds = upstreamCPUSeconds() - upstreamCPU
    return result
}

var failed = false
do {
    try await waitForCatalog()
    // Warm-up: connections, caches, SQLite pages, the upstream's connection pool.
    let warmUp = max(1, min(200, callsPerRound / 16))
    _ = try await LoadGenerator.run(client, sessions: try await directSessions(16), calls: warmUp)
    _ = try await LoadGenerator.run(client, sessions: try await latchSessions(16, calls: warmUp), calls: warmUp)

    /// Per tool delay and level: the rounds directly, through Latch and through the bare forwarder, and the load
    /// average when the delay's runs began.
    var results: [Int: [Int: (direct: [RoundResult], latch: [RoundResult], bare: [RoundResult])]] = [:]
    var loadAtStart: [Int: String] = [:]
    for delay in measuredDelays {
        let tool = EchoUpstream.toolName(milliseconds: delay)
        loadAtStart[delay] = loadAverage()
        for round in 0..<rounds {
            for level in levels {
                let calls = max(1, (level == 1 ? callsSingle : callsPerRound / level) / (1 + delay))
                // Rotate which goes first so drift in the machine's load hits every side alike.
                let order = [0, 1, 2].map { ($0 + round) % 3 }
                for side in order {
                    switch side {
                    case 0:
                        let result = try await timedRound(try await directSessions(level, tool: tool), calls: calls)
                        results[delay, default: [:]][level, default: ([], [], [])].direct.append(result)
                    case 1:
                        let result = try await timedRound(try await latchSessions(level, calls: calls, tool: tool), calls: calls)
                        results[delay, default: [:]][level, default: ([], [], [])].latch.append(result)
                    default:
                        let result = try await timedRound(try await directSessions(level, tool: tool, url: bare.url), calls: calls)
                        results[delay, default: [:]][level, default: ([], [], [])].bare.append(result)
                    }
                }
                if let last = results[delay]?[level], let direct = last.direct.last, let latch = last.latch.last, let forwarded = last.bare.last {
                    print(
                        "tool \(tool), round \(round + 1), \(level) sessions: direct \(fmt(direct.rate))/s, "
                            + "through Latch \(fmt(latch.rate))/s, through the bare forwarder \(fmt(forwarded.rate))/s")
                }
            }
        }
    }

    // A loopback round trip, sequential, right before the in-process figures.
    let loopback = try await LoadGenerator.run(client, sessions: try await directSessions(1), calls: inProcessCalls)
    let inProcess = try await InProcess.run(calls: inProcessCalls, policyFile: policyFile, logger: logger)

    for delay in measuredDelays {
        guard let byLevel = results[delay] else { continue }
        print("")
        print(
            "MCP tools/call over HTTP/1.1 on loopback, directly and through Latch (medians of \(rounds) interleaved rounds; ranges are per-round ratios)")
        print(
            "upstream tool: canned result\(delay > 0 ? " after \(delay) ms" : ", no work"); load average at the start \(loadAtStart[delay] ?? "?"), now \(loadAverage())"
        )
        print(
            [
                pad("sessions", 8), pad("direct/s", 10), pad("Latch/s", 10), pad("ratio", 16), pad("p50 direct", 11), pad("p50 Latch", 10),
                pad("ratio", 16), pad("p99 direct", 11), pad("p99 Latch", 10), pad("ratio", 16),
            ].joined(separator: " | "))
        for level in levels {
            guard let result = byLevel[level] else { continue }
            let rateRatios = zip(result.latch, result.direct).map { $0.rate / $1.rate }
            let p50Ratios = zip(result.latch, result.direct).map { $0.percentile(0.5) / $1.percentile(0.5) }
            let p99Ratios = zip(result.latch, result.direct).map { $0.percentile(0.99) / $1.percentile(0.99) }
            print(
                [
                    pad(String(level), 8), pad(fmt(median(result.direct.map(\.rate))), 10), pad(fmt(median(result.latch.map(\.rate))), 10),
                    pad("\(pct(median(rateRatios))) (\(range(rateRatios, pct)))", 16),
                    pad("\(fmt(median(result.direct.map { $0.percentile(0.5) }))) µs", 11),
                    pad("\(fmt(median(result.latch.map { $0.percentile(0.5) }))) µs", 10),
                    pad("\(times(median(p50Ratios))) (\(range(p50Ratios, times)))", 16),
                    pad("\(fmt(median(result.direct.map { $0.percentile(0.99) }))) µs", 11),
                    pad("\(fmt(median(result.latch.map { $0.percentile(0.99) }))) µs", 10),
                    pad("\(times(median(p99Ratios))) (\(range(p99Ratios, times)))", 16),
                ].joined(separator: " | "))
        }
        // CPU per call: this process runs the load generator in both columns, and Latch too in
        // the second; the difference is what Latch's HTTP path costs per call (server, gateway,
        // client to the upstream), records included.
        print("  CPU per call (medians): this process direct | through Latch | difference = Latch's CPU per call | upstream direct | through Latch")
        for level in levels {
            guard let result = byLevel[level] else { continue }
            let direct = median(result.direct.map(\.cpuPerCall))
            let latch = median(result.latch.map(\.cpuPerCall))
            print(
                "  \(pad(String(level), 3)) sessions: \(pad(fmt(direct), 6)) µs | \(pad(fmt(latch), 6)) µs | \(pad(fmt(latch - direct), 6)) µs | "
                    + "\(pad(fmt(median(result.direct.map(\.upstreamCPUPerCall))), 6)) µs | "
                    + "\(pad(fmt(median(result.latch.map(\.upstreamCPUPerCall))), 6)) µs")
        }
        // The ceiling: the same rounds through a forwarder that does nothing but the second hop.
        print("  the bare forwarder (no authentication, decision or record): calls/s | / direct | Latch / bare | p50 | p50 / direct | CPU per call over direct")
        for level in levels {
            guard let result = byLevel[level], !result.bare.isEmpty else { continue }
            let bareRatios = zip(result.bare, result.direct).map { $0.rate / $1.rate }
            let latchToBare = zip(result.latch, result.bare).map { $0.rate / $1.rate }
            let p50Ratios = zip(result.bare, result.direct).map { $0.percentile(0.5) / $1.percentile(0.5) }
            print(
                "  \(pad(String(level), 3)) sessions: \(pad(fmt(median(result.bare.map(\.rate))), 7))/s | "
                    + "\(pad("\(pct(median(bareRatios))) (\(range(bareRatios, pct)))", 13)) | \(pad(pct(median(latchToBare)), 5)) | "
                    + "\(pad(fmt(median(result.bare.map { $0.percentile(0.5) })), 6)) µs | \(pad(times(median(p50Ratios)), 6)) | "
                    + "\(pad(fmt(median(result.bare.map(\.cpuPerCall)) - median(result.direct.map(\.cpuPerCall))), 5)) µs")
        }
        let allRatios = levels.compactMap { byLevel[$0] }.map { result in median(zip(result.latch, result.direct).map { $0.rate / $1.rate }) }
        let lowest = allRatios.min() ?? .nan
        let bareLowest = levels.compactMap { byLevel[$0] }.filter { !$0.bare.isEmpty }
            .map { result in median(zip(result.bare, result.direct).map { $0.rate / $1.rate }) }.min() ?? .nan
        print(
            "through Latch / direct, lowest median over the levels: \(pct(lowest))   (target >= 80%)   \(lowest >= 0.8 ? "MET" : "MISSED")"
                + "; the bare forwarder's: \(pct(bareLowest))")
    }

    let rtt = loopback.percentile(0.5)
    print("")
    print(
        "Latch's own work per call, in-process (MCPGateway.handle over an instant upstream, sequential, \(inProcessCalls) calls; proofs made before timing)"
    )
    print("  loopback round trip (HTTP/1.1 POST to the echo upstream, same run): p50 \(fmt(rtt)) µs")
    func line(_ name: String, _ sample: Sample) {
        print(
            "  \(name.padding(toLength: 58, withPad: " ", startingAt: 0)) p50 \(pad(String(format: "%.1f", sample.p50), 7)) µs  mean \(pad(String(format: "%.1f", sample.mean), 7)) µs  CPU \(pad(String(format: "%.1f", sample.cpuMicros), 7)) µs  p50 = \(pct(sample.p50 / rtt)) of the round trip"
        )
    }
    line("handle: authenticate + decide + record (SQLite) + answer", inProcess.full)
    line("handle without the record", inProcess.noRecord)
    line("  of which grant + DPoP proof verification", inProcess.verify)
    line("    of which the proof's ECDSA check alone (P-256)", inProcess.signature)
    line("  of which scope check + Cedar decision", inProcess.decide)
    let ratio = inProcess.full.p50 / rtt
    print(
        "Latch's work / loopback round trip: \(pct(ratio)) wall (p50), \(pct(inProcess.full.cpuMicros / rtt)) CPU; without the record "
            + "\(pct(inProcess.noRecord.p50 / rtt)) wall, \(pct(inProcess.noRecord.cpuMicros / rtt)) CPU   "
            + "(target < 5%)   \(ratio < 0.05 ? "MET" : "MISSED")")
    print(
        "  the floor: the one P-256 verification RFC 9449 requires per request is \(pct(inProcess.signature.p50 / rtt)) of the round trip by itself")
} catch {
    print("benchmark failed: \(error)")
    failed = true
}
// The report out before the servers stop (their shutdown may log): piped, it is not interleaved.
fflush(nil)
server.cancel()
_ = try? await server.value
bare.task.cancel()
_ = try? await bare.task.value
try? await client.shutdown()
upstreamProcess.terminate()
try? FileManager.default.removeItem(atPath: directory)
exit(failed ? 1 : 0)
