import Foundation
import Testing

@Suite("latch policy format")
struct FormatCommandTests {
    static let messy = """
        @description("owners read")   permit(principal,action==Action::"read",resource) when {resource.owner==principal&&
        principal.level>1};
          forbid ( principal , action , resource ) unless { context.mfa };
        """

    @Test("formatting is idempotent and keeps the policies parseable")
    func idempotent() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("messy.cedar", Self.messy)
        let first = try await LatchProcess.run(["policy", "format", "messy.cedar"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout != Self.messy)
        #expect(first.stdout.contains("@description(\"owners read\")"))
        try dir.write("once.cedar", first.stdout)
        let second = try await LatchProcess.run(["policy", "format", "once.cedar"], in: dir)
        #expect(second.status == 0)
        #expect(second.stdout == first.stdout)
        let check = try await LatchProcess.run(["policy", "check", "once.cedar"], in: dir)
        #expect(check.status == 0)
        #expect(check.stdout.contains("OK (2 policies)"))
    }

    @Test("--check exits 1 for an unformatted file and 0 once it is formatted in place")
    func checkAndInPlace() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.messy)
        let before = try await LatchProcess.run(["policy", "format", "--check", "p.cedar"], in: dir)
        #expect(before.status == 1)
        #expect(before.stdout.contains("p.cedar: not formatted"))

        let rewrite = try await LatchProcess.run(["policy", "format", "--in-place", "p.cedar"], in: dir)
        #expect(rewrite.status == 0, "\(rewrite.stderr)")
        #expect(rewrite.stdout.isEmpty)
        #expect(try dir.read("p.cedar") != Self.messy)

        let after = try await LatchProcess.run(["policy", "format", "--check", "p.cedar"], in: dir)
        #expect(after.status == 0)
        #expect(after.stdout.isEmpty)
    }

    @Test("standard input can be formatted")
    func stdin() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.messy)
        let fromFile = try await LatchProcess.run(["policy", "format", "p.cedar"], in: dir)
        let fromStdin = try await LatchProcess.run(["policy", "format", "-"], in: dir, stdin: Self.messy)
        #expect(fromStdin.status == 0)
        #expect(fromStdin.stdout == fromFile.stdout)
    }

    @Test("a file that does not parse exits 1 with file:line:col and is not rewritten")
    func syntaxError() async throws {
        let dir = try TemporaryDirectory()
        let broken = "permit (principal, action, resource);\n\nforbid (principal,, action, resource);\n"
        try dir.write("bad.cedar", broken)
        let result = try await LatchProcess.run(["policy", "format", "--in-place", "bad.cedar"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.range(of: #"^bad\.cedar:3:\d+: "#, options: .regularExpression) != nil, "\(result.stderr)")
        #expect(try dir.read("bad.cedar") == broken)
    }

    @Test("the committed demo policies are formatted")
    func demoIsFormatted() async throws {
        let dir = try TemporaryDirectory()
        let result = try await LatchProcess.run(["policy", "format", "--check", Examples.demo.appendingPathComponent("policies.cedar").path], in: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test("--in-place and --check together are a usage error")
    func conflictingFlags() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.messy)
        let result = try await LatchProcess.run(["policy", "format", "--in-place", "--check", "p.cedar"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot be used together"))
    }
}
