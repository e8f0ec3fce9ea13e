import Foundation

/// Polling for something another process does, for tests.
enum Polling {
    /// Calls `probe` every `interval` until it returns a value, or returns nil once `timeout` has
    /// passed. The probe is always asked once more after the deadline: on a loaded machine a sleep
    /// can outlast the whole timeout, and what happened meanwhile must still be seen.
    static func eventually<Value>(
        timeout: Duration, every interval: Duration = .milliseconds(50), _ probe: () async throws -> Value?
    ) async throws -> Value? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let past = ContinuousClock.now >= deadline
            if let value = try await probe() { return value }
            if past { return nil }
            try await Task.sleep(for: interval)
        }
    }
}
