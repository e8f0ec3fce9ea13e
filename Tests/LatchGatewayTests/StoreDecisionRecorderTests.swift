import LatchAudit
import LatchCore
import LatchGateway
import LatchTesting
import Synchronization
import Testing

@Suite("StoreDecisionRecorder")
struct StoreDecisionRecorderTests {
    /// The in-memory store, counting the batches it is given. Its first save waits until every
    /// caller of the test has started, so the others queue up behind it.
    final class CountingRepository: DecisionRecordRepository {
        let store = InMemoryIdentityStore()
        let batchSizes = Mutex<[Int]>([])
        let started = Atomic<Int>(0)
        let callers: Int

        init(callers: Int) { self.callers = callers }

        func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws {
            if self.batchSizes.withLock({ $0.isEmpty }) {
                while self.started.load(ordering: .acquiring) < self.callers { await Task.yield() }
                for _ in 0..<100 { await Task.yield() }
            }
            try await self.store.saveDecisionRecords(records, ledgerKey: ledgerKey)
            self.batchSizes.withLock { $0.append(records.count) }
        }

        func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
            try await self.store.decisionRecords(taskID: taskID, limit: limit)
        }
    }

    @Test("64 concurrent records are all stored, in fewer transactions than records; each returns after its batch is stored")
    func concurrentRecords() async throws {
        let repository = CountingRepository(callers: 64)
        let recorder = StoreDecisionRecorder(repository: repository, ledgerKey: TestKeys.ledgerKey)
        let records = (0..<64).map { index in
            ConformanceValues.decisionRecord("d\(index)", task: "task-\(index % 4)", time: 1_000 + Int64(index), tool: "t\(index)")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for record in records {
                group.addTask {
                    repository.started.add(1, ordering: .releasing)
                    try await recorder.record(record)
                    let stored = try await repository.store.decisionRecords(taskID: record.taskID, limit: 100)
                    #expect(stored.contains(record), "\(record.id) was stored before record returned")
                }
            }
            try await group.waitForAll()
        }
        #expect(Set(try await repository.decisionRecords(taskID: nil, limit: 100)) == Set(records))
        let batches = repository.batchSizes.withLock { $0 }
        #expect(batches.reduce(0, +) == 64)
        #expect(batches.count < 64, "nothing was batched: \(batches)")
    }

    @Test("a rejected record makes record throw, and fails every call of its batch with it; later calls go through")
    func failures() async throws {
        let store = InMemoryIdentityStore()
        let recorder = StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey)
        try await recorder.record(ConformanceValues.decisionRecord("stored"))
        await #expect(throws: LatchError(.conflict, "")) { try await recorder.record(ConformanceValues.decisionRecord("stored")) }
        await #expect(throws: LatchError(.invalidInput, "")) { try await recorder.record(ConformanceValues.decisionRecord("bad", task: "")) }

        // One bad record among concurrent good ones: whoever shared its batch failed with it and is
        // not stored; everyone else is stored.
        let good = (0..<32).map { ConformanceValues.decisionRecord("g\($0)") }
        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for record in good + [ConformanceValues.decisionRecord("", task: "task-1")] {
                group.addTask {
                    do {
                        try await recorder.record(record)
                        return (record.id, true)
                    } catch {
                        return (record.id, false)
                    }
                }
            }
            return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes[""] == false)
        let stored = Set(try await store.decisionRecords(taskID: nil, limit: 100).map(\.id))
        for record in good {
            #expect(stored.contains(record.id) == outcomes[record.id], "\(record.id): stored exactly when record returned")
        }
        try await recorder.record(ConformanceValues.decisionRecord("after"))
        #expect(try await store.decisionRecords(taskID: nil, limit: 100).contains { $0.id == "after" })
    }
}
