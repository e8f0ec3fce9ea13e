import Foundation
import Testing

@Suite("latch policy check")
struct CheckCommandTests {
    static let schema = """
        entity User { level: Long };
        entity Doc { owner: User };
        action "read" appliesTo { principal: [User], resource: [Doc] };
        """

    static let goodPolicies = """
        permit (principal, action == Action::"read", resource)
        when { resource.owner == principal };

        forbid (principal, action, resource)
        when { principal.level < 2 };
        """

    @Test("a file that parses is OK and exits 0")
    func okFile() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.cedar", Self.goodPolicies)
        let result = try await LatchProcess.run(["policy", "check", "good.cedar"], in: dir)
        #expect(result.status == 0)
        #expect(result.stdout.contains("good.cedar: OK (2 policies)"))
        #expect(result.stderr.isEmpty)
    }

    @Test("a syntax error exits 1 with file:line:col, the source line and a caret")
    func syntaxError() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("bad.cedar", "permit (principal, action, resource)\nwhen { principal.level > };\n")
        let result = try await LatchProcess.run(["policy", "check", "bad.cedar"], in: dir)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let first = try #require(lines.first)
        #expect(first.range(of: #"^bad\.cedar:2:\d+: \S"#, options: .regularExpression) != nil, "got: \(first)")
        #expect(lines.contains { $0.contains("when { principal.level > };") })
        #expect(lines.contains { $0.range(of: #"^\s*(\d+\s*\|\s*)?\s*\^"#, options: .regularExpression) != nil })
        #expect(!result.stdout.contains("OK"))
    }

    @Test("every file is checked: good ones are OK, bad ones are reported, and the exit code is 1")
    func mixedFiles() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.cedar", Self.goodPolicies)
        try dir.write("bad1.cedar", "permit (principal, action, resource) when { 1 + };")
        try dir.write("bad2.cedar", "\n\nforbid (principal resource);")
        let result = try await LatchProcess.run(["policy", "check", "good.cedar", "bad1.cedar", "bad2.cedar"], in: dir)
        #expect(result.status == 1)
        #expect(result.stdout.contains("good.cedar: OK"))
        #expect(result.stderr.range(of: #"(?m)^bad1\.cedar:1:\d+: "#, options: .regularExpression) != nil)
        #expect(result.stderr.range(of: #"(?m)^bad2\.cedar:3:\d+: "#, options: .regularExpression) != nil)
    }

    @Test("with a schema, policies that validate are OK")
    func validatesAgainstSchema() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("schema.cedarschema", Self.schema)
        try dir.write("good.cedar", Self.goodPolicies)
        let result = try await LatchProcess.run(["policy", "check", "good.cedar", "--schema", "schema.cedarschema"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("valid against schema.cedarschema"))
    }

    @Test("with a schema, a type error exits 1 with file:line:col and the policy ID")
    func validationError() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("schema.cedarschema", Self.schema)
        try dir.write(
            "typo.cedar",
            """
            permit (principal, action == Action::"read", resource);

            permit (principal, action == Action::"read", resource)
            when { principal.levle > 3 };
            """
        )
        let result = try await LatchProcess.run(["policy", "check", "typo.cedar", "--schema", "schema.cedarschema"], in: dir)
        #expect(result.status == 1)
        #expect(result.stderr.range(of: #"(?m)^typo\.cedar:[34]:\d+: .*policy1"#, options: .regularExpression) != nil, "\(result.stderr)")
        #expect(!result.stderr.contains("policy0"))
    }

    @Test("--json prints a machine-readable result with positions")
    func jsonOutput() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.cedar", Self.goodPolicies)
        try dir.write("bad.cedar", "permit (principal, action, resource)\nwhen { principal.level > };\n")
        let result = try await LatchProcess.run(["policy", "check", "--json", "good.cedar", "bad.cedar"], in: dir)
        #expect(result.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == false)
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.count == 2)
        #expect(files[0]["ok"] as? Bool == true)
        #expect(files[0]["policies"] as? Int == 2)
        #expect(files[1]["ok"] as? Bool == false)
        let error = try #require((files[1]["errors"] as? [[String: Any]])?.first)
        #expect(error["line"] as? Int == 2)
        #expect((error["column"] as? Int ?? 0) > 0)
        #expect(!(error["message"] as? String ?? "").isEmpty)
    }

    @Test("a policy set in JSON form is checked too")
    func jsonPolicySet() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "set.json",
            """
            {"staticPolicies":{"allow-all":{"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},\
            "resource":{"op":"All"},"conditions":[]}},"templates":{},"templateLinks":[]}
            """
        )
        let result = try await LatchProcess.run(["policy", "check", "set.json"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("set.json: OK (1 policy)"))
    }

    @Test("a missing file or a bad schema exits 1 with a clear message naming the file")
    func unreadableInputs() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("good.cedar", Self.goodPolicies)
        let missing = try await LatchProcess.run(["policy", "check", "nope.cedar"], in: dir)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.cedar: cannot read"))

        try dir.write("broken.cedarschema", "entity User {\n  level: ;\n};")
        let badSchema = try await LatchProcess.run(["policy", "check", "good.cedar", "--schema", "broken.cedarschema"], in: dir)
        #expect(badSchema.status == 1)
        #expect(badSchema.stderr.hasPrefix("broken.cedarschema:"))
    }

    @Test("no file at all is a usage error")
    func usage() async throws {
        let dir = try TemporaryDirectory()
        let result = try await LatchProcess.run(["policy", "check"], in: dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("Usage"))
    }
}
