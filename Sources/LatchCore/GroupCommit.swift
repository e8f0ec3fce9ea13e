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
    /// Items waiting for a writer, and their callers (same order).
    private struct Queue {
        var items: [Item] = []
        var waiters: [UnsafeContinuation<Void, any Error>] = []

        /// Takes up to `count` items from the front (all of them without copying, the usual case).
        mutating func take(_ count: Int) -> Queue {
            guard count < self.items.count else {
                defer { self = Queue() }
                return self
            }
            let batch = Queue(items: Array(self.items.prefix(count)), waiters: Array(self.waiters.prefix(count)))
            self.items.removeFirst(count)
            self.waiters.removeFirst(count)
            return batch
        }
    }

    private struct State {
        var pending = Queue()
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
        // Unchecked: every waiter is resumed exactly once, by the `drain` that took it.
        try await withUnsafeThrowingContinuation { (waiter: UnsafeContinuation<Void, any Error>) in
            let startWriter = self.state.withLock { state in
                state.pending.items.append(item)
                state.pending.waiters.append(waiter)
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
            let batch = self.state.withLock { state in
                if state.pending.items.isEmpty { state.writers -= 1 }
                return state.pending.take(self.maxBatch)
            }
            if batch.items.isEmpty { return }
            do {
                try await self.write(batch.items)
                for waiter in batch.waiters { waiter.resume() }
            } catch {
                for waiter in batch.waiters { waiter.resume(throwing: error) }
            }
        }
    }
}
