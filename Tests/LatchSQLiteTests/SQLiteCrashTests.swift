import Foundation
import GRDB
import LatchIdentity
import LatchTesting
import Testing

@testable import LatchSQLite

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Acknowledged writes survive the writer being killed (SIGKILL) mid-stream.
///
/// The test re-runs this test binary as a child that only runs ``SQLiteCrashChild``: it writes
/// entries to the store in a loop and prints `acked N` after each `createEntry` returns. The parent
/// kills it with SIGKILL after some acknowledgements, reopens the file, and checks that every
/// acknowledged entry is there and the file is intact. (A killed process is what a test can do;
/// surviving a power cut is what `synchronous=FULL` adds on top, see ``SQLiteIdentityStore``.)
@Suite("SQLiteIdentityStore crash")
struct SQLiteCrashTests {
    static let childVariable = "LATCH_SQLITE_CRASH_CHILD_DIR"

    @Test("every write acknowledged before a SIGKILL is in the file afterwards, and the file is intact")
    func acknowledgedWritesSurviveKill() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let child = try KilledChild.run(filter: "SQLiteCrashChild", variable: Self.childVariable, directory: fixture.dataDirectory) {
            ($0.last.flatMap { Int($0) } ?? -1) >= 40
        }
        let acked = child.acked.compactMap { Int($0) }.max() ?? -1
        try #require(acked >= 40, "the child acknowledged \(acked + 1) writes before it ended: \(child.tail.suffix(500))")
        #expect(child.killed)

        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let ids = Set(try await store.listEntries().map(\.id))
        let missing = (0...acked).filter { !ids.contains("crash-\($0)") }
        #expect(missing.isEmpty, "acknowledged but missing after the kill: \(missing)")
        #expect(try await store.entriesRevision() >= Int64(acked + 1))
        let integrity = try await store.pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"])
    }
}

/// The child side of ``SQLiteCrashTests``; runs only when started by it.
@Suite(
    "SQLiteIdentityStore crash (child process)",
    .enabled(if: ProcessInfo.processInfo.environment[SQLiteCrashTests.childVariable] != nil, "runs only as the crash test's child"))
struct SQLiteCrashChild {
    @Test("writes entries until killed, printing each acknowledgement")
    func writeUntilKilled() async throws {
        let directory = try #require(ProcessInfo.processInfo.environment[SQLiteCrashTests.childVariable])
        let store = try SQLiteIdentityStore(dataDirectory: directory)
        for index in 0..<100_000 {
            try await store.createEntry(try ConformanceValues.entry("crash-\(index)", selectors: ["unix:uid:\(index)"]))
            FileHandle.standardOutput.write(Data("acked \(index)\n".utf8))  // unbuffered: the parent may kill us any time
        }
    }
}
