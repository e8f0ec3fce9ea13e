// X.509-SVIDs and JWT-SVIDs per second end to end over the SPIFFE Workload API: a real server
// (`LatchServer.run`: SQLite store in a temp directory, unix socket, peer-credential attestation
// with the executable's SHA-256) and gRPC clients in the same process, which is registered by uid.
// Side by side, in the same run: the same credentials minted in-process (no socket, no gRPC,
// no attestation), so the ratio is what the socket path costs. Wall-clock rates; both share the
// machine's cores.
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchCore
import LatchIdentity
import LatchServer
import LatchWorkloadProto
import Logging

let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 5
let connections = Int(ProcessInfo.processInfo.environment["BENCH_CONNECTIONS"] ?? "") ?? 4
let concurrency = Int(ProcessInfo.processInfo.environment["BENCH_CONCURRENCY"] ?? "") ?? 16

func fmt(_ x: Double) -> String { String(Int(x.rounded())) }
func pct(_ x: Double) -> String { String(Int((x * 100).rounded())) + "%" }

/// Runs `callers` tasks until `seconds` of wall time have passed; each returns how many calls it
/// completed. Returns calls per second.
func throughput(callers: Int, _ body: @escaping @Sendable (ContinuousClock.Instant) async throws -> Int) async throws -> Double {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
    let start = ContinuousClock.now
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<callers { group.addTask { try await body(deadline) } }
        return try await group.reduce(0, +)
    }
    let elapsed = start.duration(to: .now)
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latch-wl-bench-\(UUID().uuidString.prefix(8))").path
defer { try? FileManager.default.removeItem(atPath: directory) }
var configuration = ServerConfiguration.defaults
configuration.trustDomain = try TrustDomain(parsing: "bench.test")
configuration.dataDirectory = directory
configuration.listen = "127.0.0.1:0"
configuration.logLevel = "warning"
var logger = Logger(label: "bench")
logger.logLevel = ProcessInfo.processInfo.environment["BENCH_LOG"] == nil ? .warning : .debug
let spiffeID = try SPIFFEID(parsing: "spiffe://bench.test/agents/bench")

// Register this process by uid before the server starts.
try await StoreAccess.withStore(databaseURL: "sqlite", dataDirectory: directory, logger: logger) { store in
    try await store.createEntry(
        RegistrationEntry(
            id: "bench", spiffeID: spiffeID, selectors: [Selector(type: "unix", value: "uid:\(getuid())")],
            x509SVIDTTL: 3600, jwtSVIDTTL: 300, createdAt: SystemWallClock().now().milliseconds))
}

let (ready, readyContinuation) = AsyncStream<LatchServer.Endpoints>.makeStream()
let server = Task {
    try await LatchServer.run(
        configuration: configuration, environment: ["LATCH_KEK": Data(repeating: 7, count: 32).base64EncodedString()], logger: logger,
        onReady: { readyContinuation.yield($0) })
}
var endpoints: LatchServer.Endpoints?
for await e in ready {
    endpoints = e
    break
}
guard let socket = endpoints?.workloadAPISocket else { fatalError("server did not start") }

let header: Metadata = ["workload.spiffe.io": "true"]
var jwtRequest = Workload_JWTSVIDRequest()
jwtRequest.audience = ["bench"]
let jwtRequestValue = jwtRequest
/// Streams one connection carries before the caller replaces it (see below).
let streamsPerConnection = 150

enum Connection {
    /// Runs `body` with a client on a new connection to `socket`, then closes the connection.
    static func with<Result: Sendable>(
        _ socket: String, _ body: @Sendable (Workload_SpiffeWorkloadAPI.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { client in
            try await body(Workload_SpiffeWorkloadAPI.Client(wrapping: client))
        }
    }
}
let socketPath = socket

// Warm up (the attestation digest cache).
_ = try await Connection.with(socketPath) { try await $0.fetchJWTSVID(jwtRequestValue, metadata: header) }

// An X.509-SVID call opens a FetchX509SVID stream, takes the first message and cancels the stream,
// as py-spiffe's fetch_x509_svid does. Each cancel is an RST_STREAM, and grpc-swift's transport
// answers more than 200 of them on one connection within 10 s with GOAWAY (rapid-reset
// protection), failing the calls in flight. So each caller replaces its connection every
// `streamsPerConnection` calls (connection setup is included in the rate); a GOAWAY would fail
// the benchmark rather than be hidden.
let x509Rate = try await throughput(callers: concurrency) { deadline in
    var delivered = 0
    while ContinuousClock.now < deadline {
        delivered += try await Connection.with(socketPath) { client in
            var n = 0
            while n < streamsPerConnection, ContinuousClock.now < deadline {
                let count = try await client.fetchX509SVID(Workload_X509SVIDRequest(), metadata: header) { response in
                    for try await message in response.messages { return message.svids.count }
                    return 0
                }
                precondition(count == 1)
                n += 1
            }
            return n
        }
    }
    return delivered
}

// JWT-SVIDs are unary calls: `connections` long-lived connections shared by the callers.
let jwtRate = try await withThrowingTaskGroup(of: Void.self) { group in
    var clients: [GRPCClient<HTTP2ClientTransport.Posix>] = []
    for _ in 0..<connections {
        let client = GRPCClient(transport: try .http2NIOPosix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext))
        clients.append(client)
        group.addTask { try await client.runConnections() }
    }
    let pool = clients.map { Workload_SpiffeWorkloadAPI.Client(wrapping: $0) }
    defer {
        for client in clients { client.beginGracefulShutdown() }
    }
    return try await throughput(callers: concurrency) { deadline in
        let client = pool[Int.random(in: 0..<pool.count)]
        var n = 0
        while ContinuousClock.now < deadline {
            let response = try await client.fetchJWTSVID(jwtRequestValue, metadata: header)
            precondition(response.svids.count == 1)
            n += 1
        }
        return n
    }
}
server.cancel()
_ = try? await server.value

// In-process floor, same run: the minting the server does per call, without socket and gRPC.
let now = SystemWallClock().now().milliseconds
let authority = try { () throws -> CAKey in
    var key = try CAKey.generate(purpose: .x509Authority, trustDomain: configuration.trustDomain, now: now, lifetime: 86_400_000)
    key.state = .active
    return key
}()
let jwtKey = try { () throws -> CAKey in
    var key = try CAKey.generate(purpose: .jwtSigning, trustDomain: configuration.trustDomain, now: now, lifetime: 86_400_000)
    key.state = .active
    return key
}()
let validator = TrustBundle(trustDomain: configuration.trustDomain, keys: [authority, jwtKey], sequence: 1, refreshHint: 300).jwtValidator()
let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
let x509Local = try await throughput(callers: concurrency) { deadline in
    var n = 0
    while ContinuousClock.now < deadline {
        _ = try X509SVIDMinter.mintAndVerify(spiffeID: spiffeID, ttl: 3_600_000, now: now, authority: authority)
        n += 1
    }
    return n
}
let jwtLocal = try await throughput(callers: concurrency) { deadline in
    var n = 0
    while ContinuousClock.now < deadline {
        _ = try JWTSVIDMinter.mintAndVerify(spiffeID: spiffeID, audience: ["bench"], ttl: 300_000, now: now, key: jwtKey, validator: validator)
        n += 1
    }
    return n
}

print(
    "Workload API over a unix socket, \(concurrency) concurrent callers (X.509: a connection per \(streamsPerConnection) streams; JWT: \(connections) connections), \(Int(seconds)) s each, \(Int(cores)) cores"
)
print("  X.509-SVIDs/s  socket \(fmt(x509Rate))  in-process \(fmt(x509Local))  ratio \(pct(x509Rate / x509Local))")
print("  JWT-SVIDs/s    socket \(fmt(jwtRate))  in-process \(fmt(jwtLocal))  ratio \(pct(jwtRate / jwtLocal))")
