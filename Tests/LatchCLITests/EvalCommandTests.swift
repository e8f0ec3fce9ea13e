import Foundation
import Testing

@Suite("latch policy eval")
struct EvalCommandTests {
    /// What the Cedar reference engine (cedarpy 4.12.2) answers for the first seven demo requests.
    static let demoAnswers = [
        #"{"decision":"allow","reason":["policy0"],"errors":[]}"#,
        #"{"decision":"deny","reason":["policy2"],"errors":[]}"#,
        #"{"decision":"allow","reason":["policy0"],"errors":[]}"#,
        #"{"decision":"deny","reason":[],"errors":[]}"#,
        #"{"decision":"allow","reason":["policy1"],"errors":[]}"#,
        #"{"decision":"deny","reason":["policy3"],"errors":[]}"#,
        #"{"decision":"deny","reason":[],"errors":[]}"#,
    ]

    static let policies = """
        permit (principal == User::"alice", action, resource);
        permit (principal in Group::"staff", action == Action::"read", resource);
        forbid (principal, action, resource) when { resource.locked };
        permit (principal, action, resource) when { context.n > 1 };
        """

    static let entities = """
        [
          {"uid":{"type":"User","id":"alice"},"attrs":{},"parents":[]},
          {"uid":{"type":"User","id":"bob"},"attrs":{},"parents":[{"type":"Group","id":"staff"}]},
          {"uid":{"type":"Group","id":"staff"},"attrs":{},"parents":[]},
          {"uid":{"type":"Doc","id":"open"},"attrs":{"locked":false},"parents":[]},
          {"uid":{"type":"Doc","id":"shut"},"attrs":{"locked":true},"parents":[]}
        ]
        """

    static func request(_ principal: String, _ action: String, _ resource: String, context: String = "{}") -> String {
        #"{"principal":{"type":"User","id":"\#(principal)"},"action":{"type":"Action","id":"\#(action)"},"#
            + #""resource":{"type":"Doc","id":"\#(resource)"},"context":\#(context)}"#
    }

    @Test("the committed demo gives the reference engine's answers, and an error line for its truncated last line")
    func demo() async throws {
        let dir = try TemporaryDirectory()
        let demo = Examples.demo.path
        let result = try await LatchProcess.run(
            [
                "policy", "eval", "--policies", "\(demo)/policies.cedar", "--entities", "\(demo)/entities.json",
                "--schema", "\(demo)/schema.cedarschema", "--requests", "\(demo)/requests.jsonl",
            ],
            in: dir
        )
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines.map(String.init)
        #expect(lines.count == 8)
        #expect(Array(lines.prefix(7)) == Self.demoAnswers)
        #expect(lines.last?.hasPrefix(#"{"error":"line 8: "#) == true)
    }

    @Test("malformed lines get an error line in place and the stream goes on")
    func malformedLines() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.policies)
        try dir.write("e.json", Self.entities)
        let input = [
            Self.request("alice", "write", "open"),
            "not json",
            Self.request("bob", "read", "open"),
            #"{"principal":{"type":"User","id":"bob"}}"#,
            "",
            Self.request("bob", "read", "shut"),
            Self.request("bob", "write", "open"),
            Self.request("bob", "write", "open", context: #"{"n":"x"}"#),
        ]
        try dir.write("r.jsonl", input.joined(separator: "\n") + "\n")
        let result = try await LatchProcess.run(["policy", "eval", "--policies", "p.cedar", "--entities", "e.json", "--requests", "r.jsonl"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines.map(String.init)
        #expect(lines.count == input.count)
        guard lines.count == input.count else { return }
        #expect(lines[0] == #"{"decision":"allow","reason":["policy0"],"errors":["policy3"]}"#)
        #expect(lines[1].hasPrefix(#"{"error":"line 2: "#))
        #expect(lines[2] == #"{"decision":"allow","reason":["policy1"],"errors":["policy3"]}"#)
        #expect(lines[3].hasPrefix(#"{"error":"line 4: "#))
        #expect(lines[4].hasPrefix(#"{"error":"line 5: "#))
        #expect(lines[5] == #"{"decision":"deny","reason":["policy2"],"errors":["policy3"]}"#)
        #expect(lines[6] == #"{"decision":"deny","reason":[],"errors":["policy3"]}"#)
        #expect(lines[7] == #"{"decision":"deny","reason":[],"errors":["policy3"]}"#)
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
    }

    @Test("requests can come from standard input, and a last line without a newline counts")
    func standardInput() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.policies)
        try dir.write("e.json", Self.entities)
        let input = Self.request("alice", "read", "shut") + "\r\n" + Self.request("bob", "read", "open")
        let result = try await LatchProcess.run(
            ["policy", "eval", "--policies", "p.cedar", "--entities", "e.json", "--requests", "-"], in: dir, stdin: input)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdoutLines.map(String.init) == [
                #"{"decision":"deny","reason":["policy2"],"errors":["policy3"]}"#,
                #"{"decision":"allow","reason":["policy1"],"errors":["policy3"]}"#,
            ]
        )
    }

    @Test("a policy set in JSON form answers with its own policy IDs")
    func jsonPolicies() async throws {
        let dir = try TemporaryDirectory()
        try dir.write(
            "p.json",
            """
            {"staticPolicies":{"zeta":{"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]},\
            "alpha":{"effect":"permit","principal":{"op":"==","entity":{"type":"User","id":"alice"}},"action":{"op":"All"},\
            "resource":{"op":"All"},"conditions":[]}},"templates":{},"templateLinks":[]}
            """
        )
        try dir.write("e.json", Self.entities)
        try dir.write("r.jsonl", Self.request("alice", "read", "open") + "\n" + Self.request("bob", "read", "open") + "\n")
        let result = try await LatchProcess.run(["policy", "eval", "--policies", "p.json", "--entities", "e.json", "--requests", "r.jsonl"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdoutLines.map(String.init) == [
                #"{"decision":"allow","reason":["alpha","zeta"],"errors":[]}"#,
                #"{"decision":"allow","reason":["zeta"],"errors":[]}"#,
            ]
        )
    }

    @Test("unreadable policies or entities exit 1 with a message naming the file")
    func badFiles() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.policies)
        try dir.write("bad.cedar", "permit (principal, action, resource) when {")
        try dir.write("e.json", Self.entities)
        try dir.write("bad.json", "[{\"uid\": }]")
        try dir.write("r.jsonl", Self.request("alice", "read", "open") + "\n")

        let badPolicies = try await LatchProcess.run(
            ["policy", "eval", "--policies", "bad.cedar", "--entities", "e.json", "--requests", "r.jsonl"], in: dir)
        #expect(badPolicies.status == 1)
        #expect(badPolicies.stderr.hasPrefix("bad.cedar:1:"))
        #expect(badPolicies.stdout.isEmpty)

        let badEntities = try await LatchProcess.run(
            ["policy", "eval", "--policies", "p.cedar", "--entities", "bad.json", "--requests", "r.jsonl"], in: dir)
        #expect(badEntities.status == 1)
        #expect(badEntities.stderr.hasPrefix("bad.json"))

        let noRequests = try await LatchProcess.run(
            ["policy", "eval", "--policies", "p.cedar", "--entities", "e.json", "--requests", "missing.jsonl"], in: dir)
        #expect(noRequests.status == 1)
        #expect(noRequests.stderr.contains("missing.jsonl: cannot read"))
    }

    @Test("100,000 requests stream through one process, one answer each, in order")
    func hundredThousand() async throws {
        let dir = try TemporaryDirectory()
        try dir.write("p.cedar", Self.policies)
        try dir.write("e.json", Self.entities)
        let count = 100_000
        let shapes = [
            (Self.request("alice", "write", "open", context: #"{"n":1}"#), #"{"decision":"allow","reason":["policy0"],"errors":[]}"#),
            (Self.request("bob", "read", "shut", context: #"{"n":1}"#), #"{"decision":"deny","reason":["policy2"],"errors":[]}"#),
            (Self.request("bob", "write", "open", context: #"{"n":9}"#), #"{"decision":"allow","reason":["policy3"],"errors":[]}"#),
            ("{oops", nil),
        ]
        var input = ""
        input.reserveCapacity(count * 200)
        for i in 0..<count { input += shapes[i % shapes.count].0 + "\n" }
        try dir.write("r.jsonl", input)
        let result = try await LatchProcess.run(["policy", "eval", "--policies", "p.cedar", "--entities", "e.json", "--requests", "r.jsonl"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == count)
        var wrong = 0
        for (i, line) in lines.enumerated() {
            if let want = shapes[i % shapes.count].1 {
                if line != want { wrong += 1 }
            } else if !line.hasPrefix(#"{"error":"line \#(i + 1): "#) {
                wrong += 1
            }
        }
        #expect(wrong == 0)
    }
}
