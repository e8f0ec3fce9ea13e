import Foundation
import LatchIdentity
import LatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `latch demo` as a user runs it: no set-up, one command.
@Suite("latch demo")
struct DemoCommandTests {
    /// The line of `output` that contains every one of `parts`.
    static func line(_ output: String, _ parts: String...) -> String? {
        output.split(separator: "\n").map(String.init).first { line in parts.allSatisfy { line.contains($0) } }
    }

    /// The steps every run prints, in order: each a line holding all its parts.
    static let steps: [[String]] = [
        ["✔ register", "spiffe://latch.local/agents/demo-agent", "unix:uid:\(getuid())", "team=interop"],
        ["✔ start", "MCP gateway /mcp"],
        ["✔ identity", "JWT-SVID for spiffe://latch.local/agents/demo-agent"],
        ["✔ grant", "task "],
        ["✔ tools/list", "demo.read_file demo.list_files demo.crm_lookup demo.send_email"],
        ["✔ demo.read_file", "path=public/readme.txt", "allowed", "Acme demo data", "[data: public]"],
        ["✔ demo.crm_lookup", "customer=acme", "allowed"],
        ["✘ demo.http_fetch", "denied", "tool_not_in_grant"],
        ["✔ demo.send_email", "to=sales@example.com", "allowed"],
        ["✔ demo.read_file", "path=secret/salaries.csv", "allowed", "[data: restricted]"],
        ["✘ demo.send_email", "denied", "policy_denied", "[no-egress-after-restricted-read]"],
        ["✔ complete", "completed"],
        ["✘ tools/list", "401 invalid_token"],
        ["records verified: 6 decisions (4 forwarded, each with its outcome)"],
    ]

    /// Checks that every step's line is printed, in order.
    static func expectSteps(_ output: String) {
        var rest = Substring(output)
        for parts in Self.steps {
            guard
                let found = rest.split(separator: "\n", omittingEmptySubsequences: false).first(where: { line in
                    parts.allSatisfy { line.contains($0) }
                })
            else {
                Issue.record("no line with \(parts) (in order) in:\n\(output)")
                return
            }
            rest = rest[found.endIndex...]
        }
    }

    /// The data directory a run announced (`data in DIR (SQLite)…`).
    static func dataDirectory(_ output: String) -> String? {
        guard let line = Self.line(output, "data in "), let start = line.range(of: "data in "), let end = line.range(of: " (SQLite)") else {
            return nil
        }
        return String(line[start.upperBound..<end.lowerBound])
    }

    @Test("runs the scripted agent against a live Latch, prints each step, verifies the records, exits 0 and removes its data")
    func demo() async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(["demo"], in: directory)
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")
        Self.expectSteps(result.stdout)
        #expect(result.stdout.hasSuffix("records verified: 6 decisions (4 forwarded, each with its outcome)\n"))
        #expect(!result.stdout.contains("not as scripted"))
        // The record lines name the determining policies.
        #expect(Self.line(result.stdout, "allowed", "demo.read_file", "by interop-agents-call-tools") != nil, "\(result.stdout)")
        #expect(Self.line(result.stdout, "denied", "demo.send_email", "policy_denied by no-egress-after-restricted-read") != nil, "\(result.stdout)")
        let data = try #require(Self.dataDirectory(result.stdout))
        #expect(data.contains("latch-demo-"))
        #expect(!FileManager.default.fileExists(atPath: data), "the temporary data directory is removed at exit")
        #expect(!result.stdout.contains("eyJ") && !result.stderr.contains("eyJ"), "no token is printed")
    }

    @Test("--data-dir keeps the store: latch audit list shows the records, and a second run works on it")
    func keptDataDirectory() async throws {
        let directory = try TemporaryDirectory()
        let first = try await LatchProcess.run(["demo", "--data-dir", "kept"], in: directory)
        #expect(first.status == 0, "stdout:\n\(first.stdout)\nstderr:\n\(first.stderr)")
        Self.expectSteps(first.stdout)
        #expect(Self.line(first.stdout, "data in kept (SQLite), kept") != nil, "\(first.stdout)")
        let data = directory.url.appendingPathComponent("kept").path
        #expect(FileManager.default.fileExists(atPath: data + "/latch.sqlite"))
        #expect(FileManager.default.fileExists(atPath: data + "/demo-policies.cedar"))

        let listed = try await LatchProcess.run(["audit", "list", "--data-dir", "kept"], in: directory)
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdoutLines
        // Six decisions and the outcomes of the four forwarded calls: eight lines allowed, the
        // out-of-scope call and the mail after the restricted read denied (records within one
        // millisecond may list in either order).
        #expect(lines.count == 10, "\(listed.stdout)")
        #expect(lines.filter { $0.contains("  allowed  ") }.count == 8, "\(listed.stdout)")
        #expect(lines.contains { $0.contains("  denied   policy_denied") && $0.contains("demo.send_email") }, "\(listed.stdout)")
        #expect(lines.contains { $0.contains("  denied   tool_not_in_grant") && $0.contains("demo.http_fetch") }, "\(listed.stdout)")
        #expect(lines.allSatisfy { $0.contains("spiffe://latch.local/agents/demo-agent") })

        // The ten records are the ledger, and the checkpoint signed on shutdown covers them all.
        let verified = try await LatchProcess.run(["audit", "verify", "--data-dir", "kept", "--json"], in: directory)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let verification = JSONValue(parsing: verified.stdout.utf8)
        #expect(verification?["leaves"] == .int(10) && verification?["valid"] == .bool(true), "\(verified.stdout)")
        let proved = try await LatchProcess.run(["audit", "prove", "9", "--data-dir", "kept"], in: directory)
        #expect(proved.status == 0, "\(proved.stderr)")
        #expect(proved.stdout.contains("\\n10\\n"), "the latest checkpoint has size 10: \(proved.stdout)")

        let second = try await LatchProcess.run(["demo", "--data-dir", "kept"], in: directory)
        #expect(second.status == 0, "stdout:\n\(second.stdout)\nstderr:\n\(second.stderr)")
        #expect(second.stdout.hasSuffix("records verified: 6 decisions (4 forwarded, each with its outcome)\n"))
        let again = try await LatchProcess.run(["audit", "list", "--data-dir", "kept", "--limit", "100"], in: directory)
        #expect(again.stdoutLines.count == 20, "\(again.stdout)")
        let entries = try await LatchProcess.run(["entry", "list", "--data-dir", "kept", "--json"], in: directory)
        #expect(entries.stdoutLines.count == 1, "the demo's entry is replaced, not added again: \(entries.stdout)")
    }

    @Test("--serve keeps Latch running after the script, prints how to connect, and stops on SIGINT")
    func serve() async throws {
        let directory = try TemporaryDirectory()
        let stdout = directory.url.appendingPathComponent("demo.out")
        let stderr = directory.url.appendingPathComponent("demo.err")
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let process = Process()
        process.executableURL = LatchProcess.binary
        process.arguments = ["demo", "--serve"]
        process.currentDirectoryURL = directory.url
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        try ProcessLaunch.start(process)
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        var output = ""
        while !output.contains("4. see every decision") {
            try #require(
                process.isRunning && ContinuousClock.now < deadline,
                "no instructions:\n\(output)\n\((try? String(contentsOf: stderr, encoding: .utf8)) ?? "")")
            try await Task.sleep(for: .milliseconds(100))
            output = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        }
        Self.expectSteps(output)
        let endpoint = try #require(Self.line(output, "MCP endpoint", "/mcp"), "\(output)")
        #expect(endpoint.contains("http://127.0.0.1:"))
        let register = try #require(Self.line(output, "entry create --data-dir", "--attribute team=interop"), "\(output)")
        #expect(register.contains("--selector unix:uid:\(getuid())"))
        #expect(Self.line(output, "mcp_agent.py --mcp http://127.0.0.1:") != nil, "\(output)")

        // While it runs, its store answers the printed audit command.
        let data = try #require(Self.dataDirectory(output))
        let listed = try await LatchProcess.run(["audit", "list", "--data-dir", data], in: directory)
        #expect(listed.stdoutLines.count == 10, "\(listed.stdout)\(listed.stderr)")
        #expect(process.isRunning, "still serving after the script")

        // The ledger's published key verifies its latest checkpoint, independently of Latch.
        let base = try #require(endpoint.split(separator: " ").first { $0.hasPrefix("http://") }.map { String($0.dropLast("/mcp".count)) })
        let checked = try InteropScripts.run("ledger_verify.py", ["--server", base, "--min-size", "10"])
        let answer = JSONValue(parsing: checked.output)
        #expect(checked.status == 0 && answer?["size"] == .int(10), "\(String(decoding: checked.output, as: UTF8.self))")

        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let final = (try? String(contentsOf: stdout, encoding: .utf8)) ?? ""
        #expect(final.hasSuffix("Latch stopped; its data directory is removed.\n"), "\(final)")
        #expect(!FileManager.default.fileExists(atPath: data))
    }
}
