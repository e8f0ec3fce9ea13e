import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchCore
import LatchIdentity
import LatchTesting
import LatchWorkloadProto
import Logging

@testable import LatchServer

/// An in-process Workload API on a fresh socket, over an in-memory store and a test clock, with a
/// typed client connected to it. Rotation and entry changes are driven by calling
/// ``IdentityWatcher/refresh`` directly, so tests decide exactly when time moves.
struct WorkloadAPIHarness {
    typealias Client = Workload_SpiffeWorkloadAPI.Client<HTTP2ClientTransport.Posix>

    let store = InMemoryIdentityStore()
    let clock = TestWallClock()
    let identity: IdentityService
    let socket: String
    static let header: Metadata = ["workload.spiffe.io": "true"]
    static let trustDomain = TestKeys.trustDomain

    init(lifetime: Int64 = 3_600_000) {
        self.identity = IdentityService(
            configuration: IdentityConfiguration(
                trustDomain: Self.trustDomain, x509Rotation: KeyRotationPolicy(keyLifetime: lifetime),
                jwtRotation: KeyRotationPolicy(keyLifetime: lifetime)),
            store: self.store, sealer: KeySealer(kek: TestKeys.kek), clock: self.clock)
        self.socket = FileManager.default.temporaryDirectory.appendingPathComponent("latch-wl-\(UUID().uuidString.prefix(8))/api.sock").path
    }

    /// An entry for this test process's uid (what the kernel will report for our own client).
    func entryForThisProcess(_ path: String, x509TTL: Int64 = 3600, jwtTTL: Int64 = 300) throws -> RegistrationEntry {
        RegistrationEntry(
            id: UUID().uuidString, spiffeID: try SPIFFEID(parsing: "spiffe://\(Self.trustDomain)\(path)"),
            selectors: [Selector(type: "unix", value: "uid:\(getuid())")], x509SVIDTTL: x509TTL, jwtSVIDTTL: jwtTTL,
            createdAt: self.clock.now().milliseconds)
    }

    /// Refreshes the served snapshot (optionally running due rotation steps first).
    func refresh(_ state: IdentityState, rotate: Bool = false) async throws {
        try await IdentityWatcher.refresh(identity: self.identity, store: self.store, state: state, rotate: rotate, logger: Self.logger)
    }

    static let logger = Logger(label: "latch.test")

    /// Starts the server, runs `body` with a connected client, then stops both.
    func run<Result: Sendable>(_ body: @Sendable (Client, IdentityState) async throws -> Result) async throws -> Result {
        let state = IdentityState(try await IdentityWatcher.initialSnapshot(identity: self.identity, store: self.store))
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let server = WorkloadAPIServer(
            socketPath: self.socket, socketMode: 0o777,
            service: WorkloadAPIService(state: state, attestor: UnixAttestor(), clock: self.clock, logger: Self.logger),
            onListening: { _ in readyContinuation.yield() }, logger: Self.logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for await _ in ready { break }
            defer { group.cancelAll() }
            return try await withGRPCClient(
                transport: .http2NIOPosix(target: .unixDomainSocket(path: self.socket), transportSecurity: .plaintext)
            ) { client in
                try await body(Client(wrapping: client), state)
            }
        }
    }
}

extension RPCError.Code {
    /// The code of the error `body` throws, or nil if it succeeds.
    static func of(_ body: () async throws -> Void) async -> RPCError.Code? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }
}
