import Foundation
import LatchCore
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

/// The store next to another process on the same file, played by the `sqlite3` shell.
/// Under `.ci/run` (`LATCH_REQUIRE_POSTGRES=1`, which also installs the shell) or `CI=true` the
/// suite runs and fails without the shell; elsewhere it is disabled with a note.
@Suite(
    "SQLiteIdentityStore beside another process",
    .enabled(if: SQLiteShell.path != nil || SQLiteShell.required, "the sqlite3 shell is not installed (apt-get install sqlite3)"))
struct SQLiteCrossProcessTests {
    @Test("a write waits for another process's write lock (busy timeout), then both changes count")
    func waitsForForeignWriter() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let before = try await store.entriesRevision()

        // The other process takes the write lock, bumps the revision, holds the lock for 1 s, commits.
        let holder = try SQLiteShell.start(
            store.path,
            script: """
                BEGIN IMMEDIATE;
                UPDATE store_revisions SET revision = revision + 1 WHERE name = 'entries';
                SELECT 'locked';
                .shell sleep 1
                COMMIT;
                """)
        try holder.waitForOutput("locked")
        try await store.createEntry(try ConformanceValues.entry("after-lock", selectors: ["unix:uid:3"]))
        #expect(try holder.finish() == 0)
        #expect(try await store.entriesRevision() == before + 2)
        #expect(try await store.entry(id: "after-lock") != nil)
    }

    @Test("a second handle opened in this process leaves the first one's locks in place: another process cannot take the file out of WAL")
    func secondHandleKeepsLocks() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let first = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? first.close() }
        _ = try await first.entriesRevision()
        // Opening the file again must not open and close it outside SQLite: closing any
        // descriptor of a file drops every POSIX lock the process holds on it.
        let second = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? second.close() }
        let other = try SQLiteShell.start(first.path, script: "PRAGMA journal_mode = DELETE;")
        let status = try other.finish()
        let said = String(decoding: other.output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status != 0 && said.contains("database is locked"), "the other process changed the journal mode: \(said)")
        try await first.createEntry(try ConformanceValues.entry("still-wal", selectors: ["unix:uid:5"]))
        #expect(try await second.entry(id: "still-wal") != nil)
    }

    @Test("an entry written by another process is matched without reopening the store")
    func seesForeignEntry() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        let before = try await store.entriesRevision()
        #expect(try await store.entries(matching: [ConformanceValues.selector("unix:uid:77")]).isEmpty)
        let writer = try SQLiteShell.start(
            store.path,
            script: """
                BEGIN IMMEDIATE;
                INSERT INTO registration_entries (id, spiffe_id, x509_svid_ttl, jwt_svid_ttl, attributes, created_at)
                    VALUES ('foreign', 'spiffe://example.org/foreign', 3600, 300, '{}', 5);
                INSERT INTO registration_selectors (entry_id, type, value) VALUES ('foreign', 'unix', 'uid:77');
                UPDATE store_revisions SET revision = revision + 1 WHERE name = 'entries';
                COMMIT;
                """)
        #expect(try writer.finish() == 0)
        #expect(try await store.entriesRevision() == before + 1)
        #expect(try await store.entries(matching: [ConformanceValues.selector("unix:uid:77")]).map(\.id) == ["foreign"])
    }
}

/// The `sqlite3` command-line shell as a second process.
struct SQLiteShell {
    static let path: String? = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// On CI the suite must run: a missing shell fails it.
    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || environment["LATCH_REQUIRE_POSTGRES"] == "1"
    }

    let process: Process
    let output: Pipe

    static func start(_ database: String, script: String) throws -> SQLiteShell {
        guard let path = Self.path else { throw LatchError(.notFound, "sqlite3 not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-bail", database]
        let (input, output) = try ProcessLaunch.start(process) {
            let pipes = (Pipe(), Pipe())
            process.standardInput = pipes.0
            process.standardOutput = pipes.1
            process.standardError = pipes.1
            return pipes
        }
        input.fileHandleForWriting.write(Data((script + "\n").utf8))
        try input.fileHandleForWriting.close()
        return SQLiteShell(process: process, output: output)
    }

    /// Blocks until the shell printed `marker` (or failed).
    func waitForOutput(_ marker: String) throws {
        var seen = ""
        while !seen.contains(marker) {
            let chunk = self.output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw LatchError(.io, "sqlite3 ended before printing \(marker): \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    /// Waits for exit; returns the exit status.
    func finish() throws -> Int32 {
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}
