import LatchCore
import Synchronization
import Testing

@Suite("GroupCommit")
struct GroupCommitTests {
    struct WriteFailed: Error {}

    /// Records each batch; sleeps in `write` so that callers arriving meanwhile queue up.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let running = Atomic<Int>(0)
        let overlapped = Atomic<Bool>(false)
        let mostAtOnce = Atomic<Int>(0)
        let failing: @Sendable ([Int]) -> Bool

        init(failing: @escaping @Sendable ([Int]) -> Bool = { _ in false }) { self.failing = failing }

        func write(_ items: [Int]) async throws {
            let now = self.running.add(1, ordering: .sequentiallyConsistent).newValue
            if now > 1 { self.overlapped.store(true, ordering: .sequentiallyConsistent) }
            self.mostAtOnce.max(now, ordering: .sequentiallyConsistent)
            defer { self.running.subtract(1, ordering: .sequentiallyConsistent) }
            try await Task.sleep(for: .milliseconds(5))
            if self.failing(items) { throw WriteFailed() }
            self.batches.withLock { $0.append(items) }
        }
    }

    @Test("concurrent submits are written once each, in batches, one write at a time; each returns after its batch")
    func batches() async throws {
        let recorder = Recorder()
        let commit = GroupCommit<Int>(maxBatch: 64) { try await recorder.write($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in 0..<500 {
                group.addTask {
                    try await commit.submit(item)
                    // Written before submit returned.
                    #expect(recorder.batches.withLock { $0.contains { $0.contains(item) } })
                }
            }
            try await group.waitForAll()
        }
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<500))
        #expect(batches.count < 500, "nothing was batched")
        #expect(batches.allSatisfy { $0.count <= 64 })
        let overlapped = recorder.overlapped.load(ordering: .sequentiallyConsistent)
        #expect(!overlapped, "two writes ran at once")
    }

    @Test("with three writers, batches overlap but never more than three at once")
    func severalWriters() async throws {
        let recorder = Recorder()
        let commit = GroupCommit<Int>(maxBatch: 8, maxWriters: 3) { try await recorder.write($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in 0..<300 { group.addTask { try await commit.submit(item) } }
            try await group.waitForAll()
        }
        #expect(recorder.batches.withLock { $0 }.flatMap { $0 }.sorted() == Array(0..<300))
        let most = recorder.mostAtOnce.load(ordering: .sequentiallyConsistent)
        #expect(most == 3, "at most three writes at once, and three were needed: \(most)")
    }

    @Test("a failed write fails exactly the items of its batch; later submits still go through")
    func failures() async throws {
        let recorder = Recorder(failing: { $0.contains(7) })
        let commit = GroupCommit<Int>(maxBatch: 1) { try await recorder.write($0) }
        await #expect(throws: WriteFailed.self) { try await commit.submit(7) }
        try await commit.submit(8)
        #expect(recorder.batches.withLock { $0 } == [[8]])
    }
}
