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
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "SQLiteCrashChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = fixture.dataDirectory
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()

        var acked = -1
        var buffer = ""
        while acked < 40 {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            buffer += String(decoding: chunk, as: UTF8.self)
            for line in buffer.split(separator: "\n") where line.hasPrefix("acked ") {
                acked = max(acked, Int(line.dropFirst(6)) ?? -1)
            }
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        try #require(acked >= 40, "the child acknowledged \(acked + 1) writes before it ended: \(buffer.suffix(500))")
        #expect(child.terminationReason == .uncaughtSignal)

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
