import CoreMetrics
import HTTPTypes
import Hummingbird
import LatchGateway
import LatchGrants
import NIOCore
import Prometheus

/// `latch serve`'s metrics: one Prometheus registry per server (not the process-wide
/// `MetricsSystem`, so servers in one process, as in tests, keep their own counts), filled through
/// swift-metrics by the gateway (``GatewayMetrics``) and the token endpoint (``GrantMetrics``), and
/// served as Prometheus text at `GET /metrics`.
struct ServerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let gateway: GatewayMetrics
    let grants: GrantMetrics

    init() {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Decisions take microseconds, records a commit, upstream calls anything up to their timeout.
        factory.durationHistogramBuckets = [
            GatewayMetrics.decisionSeconds: [
                .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100),
            ],
            GatewayMetrics.recordSeconds: [
                .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ],
            GatewayMetrics.upstreamSeconds: [
                .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .microseconds(2_500_000), .seconds(5), .seconds(10), .seconds(30),
            ],
        ]
        self.registry = registry
        self.factory = factory
        self.gateway = GatewayMetrics(factory: factory)
        self.grants = GrantMetrics(factory: factory)
    }
}

/// Grants issued and revoked through this server's endpoints (`latch grant revoke` runs in
/// another process and is not counted here).
///
/// | name | labels |
/// |---|---|
/// | `latch_grants_issued_total` | `kind` (`task`: from a JWT-SVID or federated token; `delegated`) |
/// | `latch_grants_revoked_total` | `reason` (`revoked`: `/revoke`; `completed`: `/complete`) |
struct GrantMetrics: Sendable {
    let issuedTask: CoreMetrics.Counter
    let issuedDelegated: CoreMetrics.Counter
    let revoked: CoreMetrics.Counter
    let completed: CoreMetrics.Counter

    init(factory: any MetricsFactory) {
        self.issuedTask = CoreMetrics.Counter(label: "latch_grants_issued_total", dimensions: [("kind", "task")], factory: factory)
        self.issuedDelegated = CoreMetrics.Counter(label: "latch_grants_issued_total", dimensions: [("kind", "delegated")], factory: factory)
        self.revoked = CoreMetrics.Counter(label: "latch_grants_revoked_total", dimensions: [("reason", "revoked")], factory: factory)
        self.completed = CoreMetrics.Counter(label: "latch_grants_revoked_total", dimensions: [("reason", "completed")], factory: factory)
    }

    func countIssued(_ grant: TaskGrant) { (grant.depth == 0 ? self.issuedTask : self.issuedDelegated).increment() }
    func countRevoked() { self.revoked.increment() }
    func countCompleted() { self.completed.increment() }
}

/// `GET /metrics`: the registry in the Prometheus text exposition format (0.0.4).
enum MetricsHTTPRoutes {
    static let path = "/metrics"

    static func add(to router: Router<BasicRequestContext>, metrics: ServerMetrics) {
        router.get(RouterPath(Self.path)) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
        }
    }
}
