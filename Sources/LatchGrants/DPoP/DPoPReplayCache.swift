import Synchronization

/// The `jti`s of accepted DPoP proofs, each kept until its proof would be too old anyway.
///
/// Bounded: when `capacity` entries are live, new proofs are refused (fail closed) until some
/// expire; expired entries are swept as the cache fills. In memory, per node: a proof replayed to
/// another node is caught there only by its short lifetime (`maxAge`), which is why proofs live
/// seconds, not minutes.
public final class DPoPReplayCache: Sendable {
    private struct State {
        var expiries: [String: Int64] = [:]
        var nextSweep: Int = 1024
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = capacity }

    /// Records `key` until `until` (milliseconds); false if it is already recorded and live, or
    /// the cache is full.
    func insert(_ key: String, until: Int64, now: Int64) -> Bool {
        self.state.withLock { state in
            if let expiry = state.expiries[key], expiry > now { return false }
            if state.expiries.count >= state.nextSweep || state.expiries.count >= self.capacity {
                state.expiries = state.expiries.filter { $0.value > now }
                state.nextSweep = max(1024, state.expiries.count * 2)
            }
            guard state.expiries.count < self.capacity else { return false }
            state.expiries[key] = until
            return true
        }
    }

    /// Live entries (for tests and metrics).
    public var count: Int { self.state.withLock { $0.expiries.count } }
}
