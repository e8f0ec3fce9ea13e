import Foundation
import LatchAudit
import LatchGateway
import LatchTesting
import Synchronization
import Testing

@testable import LatchSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Acknowledged decision records survive the writer being killed (SIGKILL) mid-stream, and the
/// ledger they are in still verifies.
///
/// As ``SQLiteCrashTests``: the test re-runs this binary as a child running only
/// ``SQLiteLedgerCrashChild``, which records from 16 concurrent tasks through
/// ``StoreDecisionRecorder`` (group commit) and prints `acked ID` once each `record` returned.
@Suite("SQLite ledger crash")
struct SQLiteLedgerCrashTests {
    static let childVariable = "LATCH_SQLITE_LEDGER_CRASH_CHILD_DIR"

    @Test("every record acknowledged before a SIGKILL is in the ledger afterwards, and the ledger verifies")
    func acknowledgedRecordsSurviveKill() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let child = try KilledChild.run(filter: "SQLiteLedgerCrashChild", variable: Self.childVariable, directory: fixture.dataDirectory) {
            $0.count >= 300
        }
        let acked = Set(child.acked)
        try #require(acked.count >= 300, "the child acknowledged \(acked.count) records before it ended")
        #expect(child.killed)

        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let stored = Set(try await store.decisionRecords(taskID: nil, limit: 10_000_000).map(\.id))
        let missing = acked.subtracting(stored)
        #expect(missing.isEmpty, "acknowledged but missing after the kill: \(missing.sorted().prefix(10))")
        let verification = try await LedgerVerifier(
            repository: store, key: TestKeys.ledgerKey, checkpointVerifier: TestKeys.checkpointSigner.verifier
        ).verify()
        #expect(verification.isValid, "\(verification.problems.prefix(5))")
        #expect(verification.leaves == Int64(stored.count) && verification.headSize == Int64(stored.count))
    }
}

/// The child side of ``SQLiteLedgerCrashTests``; runs only when started by it.
@Suite(
    "SQLite ledger crash (child process)",
    .enabled(if: ProcessInfo.processInfo.environment[SQLiteLedgerCrashTests.childVariable] != nil, "runs only as the crash test's child"))
struct SQLiteLedgerCrashChild {
    @Test("records from concurrent tasks until killed, printing each acknowledgement")
    func recordUntilKilled() async throws {
        let directory = try #require(ProcessInfo.processInfo.environment[SQLiteLedgerCrashTests.childVariable])
        let store = try SQLiteIdentityStore(dataDirectory: directory)
        let recorder = StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for index in 0..<100_000 {
                        let id = "w\(writer)-\(index)"
                        try await recorder.record(ConformanceValues.decisionRecord(id, time: ConformanceValues.recordTime + Int64(index)))
                        FileHandle.standardOutput.write(Data("acked \(id)\n".utf8))  // unbuffered: the parent may kill us any time
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
