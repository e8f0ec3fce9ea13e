import Foundation
import Testing

@Suite("latch entry")
struct EntryCommandTests {
    @Test("create, list, show and delete against a data directory")
    func lifecycle() async throws {
        let directory = try TemporaryDirectory()
        let created = try await LatchProcess.run(
            [
                "entry", "create", "--data-dir", "d", "--id", "agent-1", "--spiffe-id", "spiffe://latch.local/agents/a",
                "--selector", "unix:uid:1000", "--selector", "unix:gid:100", "--attribute", "team=payments",
                "--attribute", "risk_tier:=2", "--attribute", #"intents:=["summarize","search"]"#, "--attribute", "internal:=true",
            ],
            in: directory)
        try #require(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains(#""attributes":{"intents":["summarize","search"],"internal":true,"risk_tier":2,"team":"payments"}"#))

        let list = try await LatchProcess.run(["entry", "list", "--data-dir", "d"], in: directory)
        #expect(list.status == 0)
        #expect(list.stdoutLines.count == 2)
        #expect(list.stdout.contains("agent-1  spiffe://latch.local/agents/a  unix:gid:100,unix:uid:1000"))

        let show = try await LatchProcess.run(["entry", "show", "--data-dir", "d", "agent-1"], in: directory)
        #expect(show.status == 0)
        #expect(show.stdout.contains(#""selectors":["unix:gid:100","unix:uid:1000"]"#))

        let duplicate = try await LatchProcess.run(
            ["entry", "create", "--data-dir", "d", "--id", "agent-1", "--spiffe-id", "spiffe://latch.local/agents/b", "--selector", "unix:uid:1"],
            in: directory)
        #expect(duplicate.status == 1)

        #expect(try await LatchProcess.run(["entry", "delete", "--data-dir", "d", "agent-1"], in: directory).status == 0)
        let missing = try await LatchProcess.run(["entry", "show", "--data-dir", "d", "agent-1"], in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no entry agent-1"))
        #expect(try await LatchProcess.run(["entry", "list", "--data-dir", "d", "--json"], in: directory).stdout.isEmpty)
    }

    @Test(
        "bad input is refused before the store is touched",
        arguments: [
            (["--spiffe-id", "spiffe://latch.local/a", "--selector", "unix"], "--selector unix"),
            (["--spiffe-id", "spiffe://other.domain/a", "--selector", "unix:uid:1"], "not in the trust domain"),
            (["--spiffe-id", "spiffe://latch.local", "--selector", "unix:uid:1"], "needs a path"),
            (["--spiffe-id", "https://latch.local/a", "--selector", "unix:uid:1"], "--spiffe-id"),
            (["--spiffe-id", "spiffe://latch.local/a"], "at least one --selector"),
            (["--spiffe-id", "spiffe://latch.local/a", "--selector", "unix:uid:1", "--attribute", "Team=x"], "Cedar identifier"),
            (["--spiffe-id", "spiffe://latch.local/a", "--selector", "unix:uid:1", "--attribute", "n:=1.5"], "expected an integer"),
            (["--spiffe-id", "spiffe://latch.local/a", "--selector", "unix:uid:1", "--x509-svid-ttl", "0"], "TTLs"),
        ])
    func badInput(arguments: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(["entry", "create", "--data-dir", "d"] + arguments, in: directory)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("d").path))
    }
}
