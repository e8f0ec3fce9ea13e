import Foundation
import LatchGrants
import LatchIdentity
import LatchSQLite
import LatchTesting
import Testing

@Suite("latch quarantine")
struct QuarantineCommandTests {
    @Test("list shows quarantines in force (--all: released too, --json: every field); add and release act once, exiting 1 on a second try")
    func lifecycle() async throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try SQLiteIdentityStore(dataDirectory: directory.url.appendingPathComponent("d").path)
            defer { try? store.close() }
            #expect(try await store.quarantineAgent(try ConformanceValues.quarantine("ops")))
        }
        let listed = try await LatchProcess.run(["quarantine", "list", "--data-dir", "d"], in: directory)
        try #require(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdoutLines.count == 1 && listed.stdoutLines[0].hasPrefix("spiffe://example.org/agents/ops  1970-01-01T00:00:01"))
        #expect(listed.stdoutLines[0].hasSuffix("guard  chain_anomaly  task-ops"), "\(listed.stdout)")

        let added = try await LatchProcess.run(
            ["quarantine", "add", "spiffe://example.org/agents/coder", "--as", "alice", "--note", "odd egress", "--data-dir", "d"], in: directory)
        #expect(added.status == 0 && added.stdout.hasPrefix("quarantined spiffe://example.org/agents/coder"), "\(added.stderr)")
        let twice = try await LatchProcess.run(["quarantine", "add", "spiffe://example.org/agents/coder", "--as", "bob", "--data-dir", "d"], in: directory)
        #expect(twice.status == 1 && twice.stderr.contains("already quarantined"))

        let released = try await LatchProcess.run(
            ["quarantine", "release", "spiffe://example.org/agents/ops", "--as", "alice", "--note", "re-attested", "--data-dir", "d"], in: directory)
        #expect(released.status == 0 && released.stdout.hasPrefix("released spiffe://example.org/agents/ops"), "\(released.stderr)")
        let again = try await LatchProcess.run(["quarantine", "release", "spiffe://example.org/agents/ops", "--as", "alice", "--data-dir", "d"], in: directory)
        #expect(again.status == 1 && again.stderr.contains("is not quarantined"))

        let inForce = try await LatchProcess.run(["quarantine", "list", "--json", "--data-dir", "d"], in: directory)
        let rows = try #require(JSONValue(parsing: inForce.stdout.utf8)?.arrayValue)
        #expect(rows.count == 1 && rows.first?["agent"] == .string("spiffe://example.org/agents/coder") && rows.first?["by"] == .string("alice"))
        #expect(rows.first?["reason"] == .string("operator") && rows.first?["note"] == .string("odd egress") && rows.first?["in_force"] == .bool(true))
        let all = try await LatchProcess.run(["quarantine", "list", "--all", "--json", "--data-dir", "d"], in: directory)
        let every = try #require(JSONValue(parsing: all.stdout.utf8)?.arrayValue)
        let ops = try #require(every.first { $0["agent"] == .string("spiffe://example.org/agents/ops") })
        #expect(ops["released_by"] == .string("alice") && ops["in_force"] == .bool(false) && ops["rules"] == .array([.string("exfil"), .string("streak")]))
    }

    @Test("bad input is a usage error and changes nothing", arguments: [
        ["quarantine", "add", "not-a-spiffe-id", "--as", "alice"],
        ["quarantine", "add", "spiffe://example.org/a", "--as", ""],
        ["quarantine", "release", "spiffe://example.org/a"],
    ])
    func badInput(_ arguments: [String]) async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(arguments + ["--data-dir", "d"], in: directory)
        #expect(result.status == 64, "\(result.stderr)")
        let listed = try await LatchProcess.run(["quarantine", "list", "--json", "--data-dir", "d"], in: directory)
        #expect(listed.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(listed.stderr)")
    }
}
