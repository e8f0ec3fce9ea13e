import CedarPolicy
import Hummingbird
import LatchAudit
public import LatchCore
public import LatchGateway
import LatchGrants
import LatchIdentity
public import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `latch serve`: the identity layer as a running server.
///
/// Opens the store, loads (or on first start bootstraps) the CA keys, then runs until SIGTERM or
/// SIGINT, as one ServiceLifecycle group:
/// - ``WorkloadAPIServer``: the SPIFFE Workload API on a unix socket;
/// - the HTTP endpoints (``IdentityHTTPRoutes``, ``GrantHTTPRoutes``, ``GatewayHTTPRoutes`` for the
///   MCP gateway and HTTP egress, ``MetricsHTTPRoutes``, ``AdminHTTPRoutes`` for operators) on `listen`;
/// - ``IdentityWatcher``: CA rotation and registration changes, pushed to open streams;
/// - ``GatewayService``: the gateway's upstreams and tool catalog;
/// - ``LedgerCheckpointService``: signed checkpoints of the audit ledger (at most one a second, and on shutdown).
public enum LatchServer {
    /// Where the server listens, once it does.
    public struct Endpoints: Sendable {
        public let workloadAPISocket: String
        /// `host:port` actually bound (the port is chosen when `listen` says 0).
        public let http: String
    }

    /// Runs the server.
    ///
    /// - Parameters:
    ///   - inProcessUpstreams: MCP servers running in this process, each served as the upstream of
    ///     `configuration.upstreams` with its name and transport `inProcess` (`latch demo`'s tool server).
    ///   - stop: when given, the server also shuts down (gracefully, as on SIGTERM) once it yields or finishes.
    ///   - onReady: called once the Workload API socket and HTTP listen and the gateway has asked
    ///     every upstream for its tools once.
    public static func run(
        configuration: ServerConfiguration, environment: [String: String], clock: any WallClock = SystemWallClock(),
        inProcessUpstreams: [any MCPUpstream] = [], stop: AsyncStream<Void>? = nil, logger: Logger,
        onReady: @escaping @Sendable (Endpoints) -> Void = { _ in }
    ) async throws {
        let (host, port) = try configuration.listenAddress()
        let kek = try StoreAccess.keyEncryptionKey(
            kekFile: configuration.kekFile, dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL,
            environment: environment, logger: logger)
        try await StoreAccess.withStore(
            databaseURL: configuration.databaseURL, dataDirectory: configuration.dataDirectory, logger: logger
        ) { store in
            let identity = IdentityService(
                configuration: IdentityConfiguration(
                    trustDomain: configuration.trustDomain,
                    x509Rotation: KeyRotationPolicy(keyLifetime: configuration.x509CALifetime.milliseconds),
                    jwtRotation: KeyRotationPolicy(keyLifetime: configuration.jwtKeyLifetime.milliseconds),
                    bundleRefreshHint: configuration.bundleRefreshHint.milliseconds / 1000,
                    jwtClockSkew: configuration.jwtClockSkew.milliseconds),
                store: store, sealer: KeySealer(kek: kek), clock: clock)
            let ledgerKeys = try await LedgerKeyring.loadOrCreate(
                store: store, kek: kek, keyName: LedgerKeyring.keyName(trustDomain: configuration.trustDomain), clock: clock)
            let state = IdentityState(try await IdentityWatcher.initialSnapshot(identity: identity, store: store))
            logger.info(
                "identity ready",
                metadata: [
                    "trust_domain": "\(configuration.trustDomain)", "entries": "\(state.snapshot.entries.count)",
                    "bundle.sequence": "\(state.snapshot.bundle.sequence)",
                ])
            let ready = ReadinessLatch(socket: configuration.resolvedWorkloadAPISocket, onReady: onReady)
            let workloadAPI = WorkloadAPIServer(
                socketPath: configuration.resolvedWorkloadAPISocket, socketMode: configuration.workloadAPISocketMode,
                service: WorkloadAPIService(
                    state: state,
                    attestor: UnixAttestor(
                        fileSystem: HostProcessFileSystem(digestCache: FileDigestCache()),
                        requireExecutable: configuration.requireExecutable),
                    clock: clock, logger: logger),
                onListening: { _ in ready.socketReady() }, logger: logger)
            let issuer = Mutex(configuration.resolvedIssuer)
            let currentIssuer: @Sendable () -> String = { issuer.withLock { $0 } }
            let policies = try Self.loadPolicies(configuration: configuration, logger: logger)
            let authority = try await Self.grantAuthority(
                configuration: configuration, policies: policies, store: store, state: state, clock: clock, logger: logger)
            let grantWatcher = GrantWatcher(
                authority: authority, state: state, issuer: currentIssuer, pollInterval: configuration.entryPollInterval,
                sweepInterval: configuration.grantSweepInterval, logger: logger)
            grantWatcher.installKeys()
            let metrics = ServerMetrics()
            let gatewayService = try Self.gateway(
                configuration: configuration, policies: policies, authority: authority, store: store, state: state, issuer: currentIssuer,
                kek: kek, ledgerKey: ledgerKeys.mac, inProcess: inProcessUpstreams, clock: clock, metrics: metrics.gateway, logger: logger,
                onFirstRound: { ready.gatewayReady() })
            let router = IdentityHTTPRoutes.router(state: state, issuer: currentIssuer)
            GrantHTTPRoutes.add(to: router, authority: authority, issuer: currentIssuer, metrics: metrics.grants, logger: logger)
            GatewayHTTPRoutes.add(to: router, gateway: gatewayService.gateway)
            GatewayHTTPRoutes.add(to: router, egress: gatewayService.egress)
            MetricsHTTPRoutes.add(to: router, metrics: metrics)
            LedgerHTTPRoutes.add(to: router, verifier: ledgerKeys.signer.verifier, store: store)
            AdminHTTPRoutes.add(to: router, store: store, ledgerKey: ledgerKeys.mac, clock: clock, logger: logger)
            let http = Application(
                router: router,
                configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in
                    let bound = channel.localAddress.flatMap { address in address.port.map { "\(host):\($0)" } } ?? configuration.listen
                    if configuration.issuer == nil { issuer.withLock { $0 = "http://" + bound } }
                    grantWatcher.installKeys()
                    logger.info("HTTP endpoints listening", metadata: ["listen": "\(bound)"])
                    ready.httpReady(bound)
                },
                logger: logger)
            let watcher = IdentityWatcher(
                identity: identity, store: store, state: state, rotationCheckInterval: configuration.rotationCheckInterval,
                entryPollInterval: configuration.entryPollInterval, logger: logger)
            let checkpoints = LedgerCheckpointService(
                checkpointer: LedgerCheckpointer(repository: store, signer: ledgerKeys.signer, clock: clock), interval: .seconds(1),
                logger: logger)
            var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
                // Shut down in reverse: HTTP drains first, the upstreams stop after it, and the
                // last checkpoint is signed once every answered call's records are in.
                .init(service: checkpoints), .init(service: watcher), .init(service: grantWatcher), .init(service: gatewayService),
                .init(service: workloadAPI),
                .init(service: http),
            ]
            if let stop { services.append(.init(service: StopTrigger(trigger: stop), successTerminationBehavior: .gracefullyShutdownGroup)) }
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

extension LatchServer {
    /// The token endpoint's logic over `store`, deciding with the configured Cedar policies (none:
    /// every request is denied), with revocations already recorded loaded before it serves.
    /// The configured Cedar policies (none: an empty set, which denies everything).
    static func loadPolicies(configuration: ServerConfiguration, logger: Logger) throws -> PolicySet {
        guard let path = configuration.policies else {
            logger.warning("no policies configured (policies): every grant request and tool call is denied")
            return PolicySet()
        }
        let policies = try CedarGrantDecider.loadPolicies(at: path)
        logger.info("policies loaded", metadata: ["policies": "\(path)", "count": "\(policies.staticPolicies.count)"])
        return policies
    }

    /// The registration attributes of an agent, as policies see them. Entries for one SPIFFE ID
    /// that disagree on attributes give none (policies that need them deny) rather than
    /// whichever comes first.
    static func entryAttributes(_ state: IdentityState) -> @Sendable (SPIFFEID) -> [String: EntryAttribute] {
        let index = EntryAttributeIndex(state: state)
        return { id in index.attributes(of: id) }
    }

    static func grantAuthority(
        configuration: ServerConfiguration, policies: PolicySet, store: any LatchStore, state: IdentityState, clock: any WallClock, logger: Logger
    ) async throws -> GrantAuthority {
        var settings = GrantSettings()
        settings.defaultLifetime = configuration.grantLifetime.milliseconds
        settings.maxLifetime = configuration.grantMaxLifetime.milliseconds
        settings.audiences = configuration.grantAudiences
        settings.delegation = DelegationPolicy(maxDepth: configuration.grantMaxDepth)
        // PostgreSQL commits are mostly round-trips: several batches in flight; SQLite's serialize.
        settings.concurrentCommits = configuration.databaseURL == "sqlite" ? 1 : 4
        let decider = CedarGrantDecider(authorizer: Authorizer(policies), attributes: Self.entryAttributes(state))
        var federatedSubject: (@Sendable (String, Int64) async throws -> SPIFFEID)?
        if !configuration.federation.isEmpty {
            let federated = FederatedSubjects(issuers: configuration.federation, state: state)
            federatedSubject = { token, now in try await federated.subject(of: token, now: now) }
            logger.info("federated issuers", metadata: ["issuers": "\(configuration.federation.map(\.issuerURL))"])
        }
        let authority = GrantAuthority(
            settings: settings, repository: store, decider: decider, clock: clock, federatedSubject: federatedSubject, quarantineStore: store)
        try await authority.syncRevocations()
        try await authority.syncQuarantines()
        return authority
    }
}

extension Duration {
    /// Whole milliseconds (truncating).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Returns once `trigger` yields or finishes (or the group shuts down): the group then shuts
/// down gracefully.
private struct StopTrigger: Service {
    let trigger: AsyncStream<Void>

    func run() async {
        for await _ in self.trigger.cancelOnGracefulShutdown() { break }
    }
}

/// Calls `onReady` once both listeners are up and the gateway's first round is done.
private final class ReadinessLatch: Sendable {
    private let state = Mutex<(socket: Bool, http: String?, gateway: Bool, fired: Bool)>((false, nil, false, false))
    private let socket: String
    private let onReady: @Sendable (LatchServer.Endpoints) -> Void

    init(socket: String, onReady: @escaping @Sendable (LatchServer.Endpoints) -> Void) {
        self.socket = socket
        self.onReady = onReady
    }

    func socketReady() { self.fireIfReady { $0.socket = true } }
    func httpReady(_ address: String) { self.fireIfReady { $0.http = address } }
    func gatewayReady() { self.fireIfReady { $0.gateway = true } }

    private func fireIfReady(_ change: (inout (socket: Bool, http: String?, gateway: Bool, fired: Bool)) -> Void) {
        let endpoints: LatchServer.Endpoints? = self.state.withLock { state in
            change(&state)
            guard state.socket, let http = state.http, state.gateway, !state.fired else { return nil }
            state.fired = true
            return LatchServer.Endpoints(workloadAPISocket: self.socket, http: http)
        }
        if let endpoints { self.onReady(endpoints) }
    }
}

/// Registration attributes by SPIFFE ID, rebuilt when the identity snapshot changes (its
/// `generation` moves), so a decision looks an agent up instead of scanning every entry.
final class EntryAttributeIndex: Sendable {
    private let state: IdentityState
    private let index = Mutex<(generation: UInt64, attributes: [SPIFFEID: [String: EntryAttribute]])?>(nil)

    init(state: IdentityState) { self.state = state }

    /// The agent's attributes: those of its entries when they all agree, else none.
    func attributes(of id: SPIFFEID) -> [String: EntryAttribute] {
        let snapshot = self.state.snapshot
        return self.index.withLock { index in
            if index?.generation != snapshot.generation {
                var grouped: [SPIFFEID: Set<[String: EntryAttribute]>] = [:]
                for entry in snapshot.entries { grouped[entry.spiffeID, default: []].insert(entry.attributes) }
                index = (snapshot.generation, grouped.mapValues { $0.count == 1 ? $0.first ?? [:] : [:] })
            }
            return index?.attributes[id] ?? [:]
        }
    }
}
