extension StdioMCPUpstream {
    /// When a stdio upstream's process may be spawned: the first time at once, after a crash again
    /// no sooner than `minimumInterval` after the previous spawn, doubling for each crash in a row
    /// up to `maximumInterval`. A process that ran for `stableAfter` resets the count.
    ///
    /// Pure: every event takes `now`, time since an arbitrary origin on a monotonic clock.
    struct StateMachine: Sendable {
        enum State: Hashable, Sendable {
            /// No process; `lastSpawn` is when the previous one started, if any.
            case stopped(lastSpawn: Duration?)
            /// A process is being spawned and initialized.
            case starting(since: Duration)
            /// A process is up and initialized.
            case running(since: Duration)
            /// `shutdown()` was called: nothing spawns again.
            case shutDown
        }

        /// What a caller that needs a running process should do.
        enum ConnectAction: Hashable, Sendable {
            /// Spawn a process now (the machine is `starting`).
            case spawn
            /// Spawning is held back: try again after this long.
            case wait(Duration)
            /// The upstream was shut down.
            case refuse
        }

        let minimumInterval: Duration
        let maximumInterval: Duration
        let stableAfter: Duration
        private(set) var state: State = .stopped(lastSpawn: nil)
        /// Processes in a row that died (or failed to start) before `stableAfter`.
        private(set) var consecutiveFailures = 0

        init(minimumInterval: Duration, maximumInterval: Duration, stableAfter: Duration) {
            self.minimumInterval = minimumInterval
            self.maximumInterval = max(minimumInterval, maximumInterval)
            self.stableAfter = stableAfter
        }

        /// The least time between two spawns after `failures` crashes in a row.
        func interval(afterFailures failures: Int) -> Duration {
            guard failures > 0 else { return .zero }
            var interval = self.minimumInterval
            for _ in 1..<min(failures, 32) {
                interval *= 2
                if interval >= self.maximumInterval { return self.maximumInterval }
            }
            return min(interval, self.maximumInterval)
        }

        /// A caller needs a process and none is running or starting.
        mutating func connect(now: Duration) -> ConnectAction {
            switch self.state {
            case .shutDown:
                return .refuse
            case .starting, .running:
                // Callers join the process that is there; asking again is a caller bug, so say wait briefly.
                return .wait(.zero)
            case .stopped(let lastSpawn):
                if let lastSpawn {
                    let earliest = lastSpawn + self.interval(afterFailures: self.consecutiveFailures)
                    if now < earliest { return .wait(earliest - now) }
                }
                self.state = .starting(since: now)
                return .spawn
            }
        }

        /// The spawned process answered `initialize`.
        mutating func started(now: Duration) {
            guard case .starting(let since) = self.state else { return }
            self.state = .running(since: since)
        }

        /// The process could not be spawned or initialized.
        mutating func startFailed(now: Duration) {
            guard case .starting(let since) = self.state else { return }
            self.consecutiveFailures += 1
            self.state = .stopped(lastSpawn: since)
        }

        /// The running process exited (or its connection broke).
        mutating func exited(now: Duration) {
            guard case .running(let since) = self.state else { return }
            if now - since >= self.stableAfter {
                self.consecutiveFailures = 1
            } else {
                self.consecutiveFailures += 1
            }
            self.state = .stopped(lastSpawn: since)
        }

        /// Nothing spawns again.
        mutating func shutdown() {
            self.state = .shutDown
        }
    }
}
