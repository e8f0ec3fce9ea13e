public import CoreMetrics
import Synchronization

/// The gateway's metrics, through swift-metrics (the process picks the backend: `latch serve`
/// exports Prometheus text at `/metrics`):
///
/// | name | kind | labels |
/// |---|---|---|
/// | `latch_gateway_decisions_total` | counter | `outcome` (`allowed`, `denied`), `reason` (a ``DenialReason`` code, `none` when allowed) |
/// | `latch_gateway_decision_seconds` | timer (histogram) | — |
/// | `latch_gateway_record_seconds` | timer (histogram) | — |
/// | `latch_gateway_record_failures_total` | counter | — |
/// | `latch_gateway_upstream_seconds` | timer (histogram) | `upstream` |
/// | `latch_gateway_upstream_errors_total` | counter | `upstream`, `kind` (`unavailable`, `rpc_error`, `tool_error`) |
///
/// *Decision* time runs from a request's arrival to its decision (authentication, parsing, the
/// scope check and the Cedar decision), the upstream call and the record excluded; *record* time
/// is the wait for the decision record's commit.
///
/// Every metric object is made once (at init, or on an upstream's or reason's first use) and
/// reused: a call costs a few atomic increments and two histogram updates. Labels are bounded:
/// reason codes are constants of the code, upstreams come from the configuration; agent, task
/// and tool names are never labels.
public final class GatewayMetrics: Sendable {
    public static let decisionsTotal = "latch_gateway_decisions_total"
    public static let decisionSeconds = "latch_gateway_decision_seconds"
    public static let recordSeconds = "latch_gateway_record_seconds"
    public static let recordFailuresTotal = "latch_gateway_record_failures_total"
    public static let upstreamSeconds = "latch_gateway_upstream_seconds"
    public static let upstreamErrorsTotal = "latch_gateway_upstream_errors_total"

    /// The reason codes the gateway gives today; their counters exist from the start, so a
    /// scrape shows every series at 0 before the first denial.
    public static let knownReasons = [
        DenialReason.unknownTool, DenialReason.toolNotInGrant, DenialReason.dataDomainNotInGrant, DenialReason.sensitivityAboveGrant,
        DenialReason.destinationNotInGrant, DenialReason.destinationMissing, DenialReason.policyDenied, DenialReason.policyError,
        DenialReason.upstreamUnavailable, DenialReason.credentialUnavailable, DenialReason.invalidArguments, DenialReason.destinationInvalid,
        DenialReason.toolDefinitionChanged, DenialReason.toolDefinitionNotAccepted, DenialReason.approvalRequired,
        DenialReason.approvalPending, DenialReason.approvalDenied, DenialReason.approvalTimeout, DenialReason.approvalConsumed,
        DenialReason.approvalMismatch, DenialReason.approvalRateLimit, DenialReason.approvalUnavailable,
    ]

    /// The upstream error kinds counted.
    public enum UpstreamErrorKind: String, Sendable, CaseIterable {
        /// Unreachable, died, timed out, or answered something that is not JSON-RPC.
        case unavailable
        /// Answered with a JSON-RPC error object.
        case rpcError = "rpc_error"
        /// Answered a result with `isError: true`.
        case toolError = "tool_error"
    }

    /// One upstream's metrics.
    struct Upstream: Sendable {
        let seconds: CoreMetrics.Timer
        let errors: [UpstreamErrorKind: Counter]
    }

    private let factory: any MetricsFactory
    private let allowed: Counter
    private let denied: [String: Counter]
    /// Counters of reason codes not in ``knownReasons`` (added by newer code), made on first use.
    private let otherDenied = Mutex<[String: Counter]>([:])
    private let upstreams = Mutex<[String: Upstream]>([:])
    private let decisionTimer: CoreMetrics.Timer
    private let recordTimer: CoreMetrics.Timer
    private let recordFailures: Counter

    /// - Parameter factory: where the metrics go (default: the process's bootstrapped
    ///   `MetricsSystem`, which discards them unless a backend was bootstrapped).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        self.allowed = Counter(label: Self.decisionsTotal, dimensions: [("outcome", "allowed"), ("reason", "none")], factory: factory)
        var denied: [String: Counter] = [:]
        for reason in Self.knownReasons {
            denied[reason] = Counter(label: Self.decisionsTotal, dimensions: [("outcome", "denied"), ("reason", reason)], factory: factory)
        }
        self.denied = denied
        self.decisionTimer = CoreMetrics.Timer(label: Self.decisionSeconds, dimensions: [], factory: factory)
        self.recordTimer = CoreMetrics.Timer(label: Self.recordSeconds, dimensions: [], factory: factory)
        self.recordFailures = Counter(label: Self.recordFailuresTotal, dimensions: [], factory: factory)
    }

    /// Counts one decision: allowed, or denied for `reason` (a ``DenialReason`` code).
    func countDecision(allowed: Bool, reason: String?) {
        guard !allowed else { return self.allowed.increment() }
        let code = reason ?? DenialReason.policyDenied
        if let counter = self.denied[code] { return counter.increment() }
        self.otherDenied.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = Counter(label: Self.decisionsTotal, dimensions: [("outcome", "denied"), ("reason", code)], factory: self.factory)
            counters[code] = counter
            return counter
        }.increment()
    }

    /// A decision was made; the request arrived at `start`.
    func decided(since start: ContinuousClock.Instant) { self.decisionTimer.recordElapsed(since: start) }

    /// A decision record was committed; the commit was asked for at `start`.
    func recorded(since start: ContinuousClock.Instant) { self.recordTimer.recordElapsed(since: start) }

    func countRecordFailure() { self.recordFailures.increment() }

    /// The metrics of the upstream named `name` (made on its first call).
    func upstream(_ name: String) -> Upstream {
        self.upstreams.withLock { upstreams in
            if let existing = upstreams[name] { return existing }
            var errors: [UpstreamErrorKind: Counter] = [:]
            for kind in UpstreamErrorKind.allCases {
                errors[kind] = Counter(
                    label: Self.upstreamErrorsTotal, dimensions: [("upstream", name), ("kind", kind.rawValue)], factory: self.factory)
            }
            let made = Upstream(
                seconds: CoreMetrics.Timer(label: Self.upstreamSeconds, dimensions: [("upstream", name)], factory: self.factory), errors: errors)
            upstreams[name] = made
            return made
        }
    }
}

extension GatewayMetrics.Upstream {
    func countError(_ kind: GatewayMetrics.UpstreamErrorKind) { self.errors[kind]?.increment() }
}

extension CoreMetrics.Timer {
    /// Records the time from `start` to now.
    func recordElapsed(since start: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        self.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
