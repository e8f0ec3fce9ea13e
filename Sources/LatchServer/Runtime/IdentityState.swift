import LatchCore
import LatchIdentity
import Synchronization

/// What the Workload API and HTTP handlers read on every call: the active keys, the bundle, the
/// JWT validator and the registration entries. Replaced whole by ``IdentityWatcher``; readers copy
/// it under a lock that is held only for the copy, so the hot path has no I/O and no actor hop.
struct IdentitySnapshot: Sendable {
    var x509Authority: CAKey?
    var jwtSigningKey: CAKey?
    var bundle: TrustBundle
    var validator: JWTSVIDValidator
    var entries: [RegistrationEntry]
    var entriesRevision: Int64
    /// Grows whenever something that Workload API streams send has changed (bundle or entries).
    var generation: UInt64

    /// Entries whose selectors are all among `selectors` (SPIRE's subset match).
    func entries(matching selectors: Set<Selector>) -> [RegistrationEntry] {
        self.entries.filter { $0.matches(selectors) }
    }
}

/// The current ``IdentitySnapshot`` and the streams waiting for the next one.
final class IdentityState: Sendable {
    private struct State {
        var snapshot: IdentitySnapshot
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waiters allocated but not yet suspended, and those among them cancelled meanwhile.
        var pending: Set<Int> = []
        var cancelled: Set<Int> = []
        var nextWaiter = 0
    }

    private let state: Mutex<State>

    init(_ snapshot: IdentitySnapshot) {
        self.state = Mutex(State(snapshot: snapshot))
    }

    var snapshot: IdentitySnapshot { self.state.withLock { $0.snapshot } }

    /// Streams currently suspended waiting for a change.
    var waiting: Int { self.state.withLock { $0.waiters.count + $0.pending.count } }

    /// Workload API streams whose handlers are running (they end when the client cancels or the
    /// server shuts down).
    let openStreams = Atomic<Int>(0)

    /// Installs a new snapshot. When `changed`, its generation is bumped and every waiter resumes.
    func update(_ body: (inout IdentitySnapshot) -> Bool) {
        let resumed: [CheckedContinuation<Void, Never>] = self.state.withLock { state in
            guard body(&state.snapshot) else { return [] }
            state.snapshot.generation &+= 1
            let waiting = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiting
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Returns once the generation is past `generation`, or when the task is cancelled.
    func changed(past generation: UInt64) async {
        let id = self.state.withLock { state in
            defer { state.nextWaiter += 1 }
            state.pending.insert(state.nextWaiter)
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state in
                    state.pending.remove(id)
                    let cancelled = state.cancelled.remove(id) != nil
                    if cancelled || state.snapshot.generation > generation { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = self.state.withLock { state in
                if let waiting = state.waiters.removeValue(forKey: id) { return Optional(waiting) }
                if state.pending.contains(id) { state.cancelled.insert(id) }
                return nil
            }
            continuation?.resume()
        }
    }
}
