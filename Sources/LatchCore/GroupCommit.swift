import Synchronization

/// Joins concurrent writes into batches: each ``submit(_:)`` waits for the one `write` call its
/// item went into, and at most `maxWriters` `write` calls run at a time (default one). While
/// batches are being written, new items queue up and go together in the next call, so under load
/// the cost of a durable commit (an fsync, a round-trip) is paid once per batch rather than once
/// per item, and a caller waits at most for the commits in progress plus its own. More than one
/// writer suits a store reached over the network, where a commit is mostly waiting; batches may
/// then commit out of order.
///
/// `write` must be all or nothing: when it throws, every item of that batch fails with its error.
public final class GroupCommit<Item: Sendable>: Sendable {
    private struct State {
        var pending: [(item: Item, waiter: CheckedContinuation<Void, any Error>)] = []
        var writers = 0
    }

    private let state = Mutex(State())
    private let write: @Sendable ([Item]) async throws -> Void
    /// The most items in one `write` call.
    public let maxBatch: Int
    /// The most `write` calls at once.
    public let maxWriters: Int

    public init(maxBatch: Int = 512, maxWriters: Int = 1, write: @escaping @Sendable ([Item]) async throws -> Void) {
        self.maxBatch = max(1, maxBatch)
        self.maxWriters = max(1, maxWriters)
        self.write = write
    }

    /// Returns once `item` has been written (durably, if `write` is), or throws `write`'s error.
    public func submit(_ item: Item) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let startWriter = self.state.withLock { state in
                state.pending.append((item, waiter))
                guard state.writers < self.maxWriters else { return false }
                state.writers += 1
                return true
            }
            if startWriter { Task { await self.drain() } }
        }
    }

    /// Writes batches until nothing is pending.
    private func drain() async {
        while true {
            let batch: [(item: Item, waiter: CheckedContinuation<Void, any Error>)] = self.state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.writers -= 1
                    return []
                }
                let count = min(self.maxBatch, state.pending.count)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await self.write(batch.map(\.item))
                for entry in batch { entry.waiter.resume() }
            } catch {
                for entry in batch { entry.waiter.resume(throwing: error) }
            }
        }
    }
}
