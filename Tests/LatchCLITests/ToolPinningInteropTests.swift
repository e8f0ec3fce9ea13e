import Foundation
import LatchTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tool pinning end to end: `latch serve` in front of the reference HTTP MCP server
/// (`Tests/Interop/mcp_upstream.py`), which is restarted on the same port with
/// `--tools-variant 1` (crm_lookup's description changes, as in a "rug pull"); the reference
/// client (`Tests/Interop/mcp_agent.py`) lists and calls; `latch tool` reviews and accepts.
@Suite("tool pinning through latch serve", .serialized)
struct ToolPinningInteropTests {
    typealias Gateway = GatewayInteropTests.Gateway

    /// Starts `latch serve` (refreshing every second, `tool_pinning` as given) in front of `crm`.
    static func start(crm: HTTPUpstreamServer, pinning: String?) async throws -> Gateway {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let policies = directory.url.appendingPathComponent("policies.cedar").path
        try FileManager.default.copyItem(
            atPath: InteropPython.repoRoot.appendingPathComponent("Examples/gateway/policies.cedar").path, toPath: policies)
        try directory.write(
            "latch.yaml",
            """
            trust_domain: \(GatewayInteropTests.trustDomain)
            listen: 127.0.0.1:0
            policies: \(policies)
            upstream_refresh_interval: 1s
            \(pinning.map { "tool_pinning: \($0)" } ?? "")
            upstreams:
              - name: crm
                url: \(crm.url)
                tools:
                  crm_lookup: {sensitivity: confidential, data_domain: sales}
                  whoami: {sensitivity: public}
            """)
        let config = directory.url.appendingPathComponent("latch.yaml").path
        let created = try await LatchProcess.run(
            [
                "entry", "create", "--config", config, "--data-dir", data, "--spiffe-id", GatewayInteropTests.agent, "--selector",
                "unix:uid:\(getuid())",
                "--attribute", "team=interop",
            ],
            in: directory)
        try #require(created.status == 0, "entry create failed: \(created.stderr)")
        let server = try await ServerProcess(
            ["--config", config, "--data-dir", data, "--workload-api-socket", directory.url.appendingPathComponent("run/api.sock").path],
            in: directory)
        return Gateway(directory: directory, server: server, crm: crm, data: data, config: config)
    }

    /// `latch tool list --json`.
    static func pins(_ gateway: Gateway) async throws -> [[String: Any]] {
        let listed = try await gateway.latch(["tool", "list", "--json"])
        try #require(listed.status == 0, "\(listed.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
    }

    /// Polls `body` (every 250 ms, for at most 60 s) until it returns a value.
    static func eventually<Value>(_ what: String, _ gateway: Gateway, _ body: () async throws -> Value?) async throws -> Value {
        guard let value = try await Polling.eventually(timeout: .seconds(60), every: .milliseconds(250), body) else {
            throw ServerProcess.ServerFailed(description: "timed out waiting for \(what):\n\(gateway.server.log)")
        }
        return value
    }

    static func listed(_ gateway: Gateway) async throws -> Set<String> {
        await Set(try gateway.agent(#"[{"op": "list_tools"}]"#, protocol: "2026-07-28").first?["result"] as? [String] ?? [])
    }

    static func call(_ gateway: Gateway, _ tool: String) async throws -> [String: Any] {
        let arguments = tool == "crm.crm_lookup" ? #"{"customer": "acme"}"# : "{}"
        return try await gateway.agent(#"[{"op": "call", "tool": "\#(tool)", "arguments": \#(arguments), "validate": false}]"#, protocol: "2026-07-28")[0]
    }

    @Test(
        "trust on first use: a changed definition disables the tool (not listed, calls denied and recorded) until an operator accepts exactly the reviewed digest"
    )
    func changedDefinition() async throws {
        let first = try await HTTPUpstreamServer.start()
        let gateway = try await Self.start(crm: first, pinning: nil)
        // Pinned on first use: both tools accepted, by nobody (Latch), and served.
        let initial = try await Self.eventually("the first pins", gateway) { try await Self.pins(gateway).count == 2 ? try Self.pins(gateway) : nil }
        #expect(initial.map { $0["status"] as? String } == ["accepted", "accepted"])
        #expect(initial.map { $0["tool"] as? String } == ["crm_lookup", "whoami"])
        #expect(initial.allSatisfy { $0["accepted_by"] is NSNull && ($0["digest"] as? String)?.count == 64 })
        let original = try #require(initial.first?["digest"] as? String)
        _ = try await Self.eventually("the tools served", gateway) { try await Self.listed(gateway).contains("crm.crm_lookup") ? true : nil }
        let before = try await Self.call(gateway, "crm.crm_lookup")
        #expect(before["ok"] as? Bool == true && GatewayInteropTests.text(before).contains("gold"), "\(before)")

        // The upstream restarts on the same port with crm_lookup's description changed.
        first.stop()
        let changed = try await HTTPUpstreamServer.start(options: ["--port", "\(first.port)", "--tools-variant", "1"])
        let denied = try await Self.eventually("the changed tool's calls denied", gateway) { () -> [String: Any]? in
            let step = try await Self.call(gateway, "crm.crm_lookup")
            return GatewayInteropTests.reason(step) == "tool_definition_changed" ? step : nil
        }
        let data = try #require((denied["error"] as? [String: Any])?["data"] as? [String: Any])
        #expect((denied["error"] as? [String: Any])?["code"] as? Int == -32010)
        let decision = try #require(data["decision_id"] as? String)
        let listed = try await Self.listed(gateway)
        #expect(!listed.contains("crm.crm_lookup") && listed.contains("crm.whoami"), "only the changed tool disappears: \(listed)")
        let whoami = try await Self.call(gateway, "crm.whoami")
        #expect(whoami["ok"] as? Bool == true, "the unchanged tool is still served: \(whoami)")
        let records = try await #require(
            try JSONSerialization.jsonObject(with: Data(try gateway.latch(["audit", "list", "--json", "--limit", "1000"]).stdout.utf8))
                as? [[String: Any]])
        #expect(
            records.contains {
                $0["id"] as? String == decision && $0["reason"] as? String == "tool_definition_changed" && $0["tool"] as? String == "crm.crm_lookup"
                    && $0["allowed"] as? Bool == false
            }, "the denial is recorded like every other")

        // `latch tool list` shows the pending definition; `show` has both, to diff.
        let pending = try await Self.pins(gateway)
        #expect(pending.map { "\($0["tool"] ?? "") \($0["status"] ?? "")" } == ["crm_lookup accepted", "crm_lookup pending", "whoami accepted"])
        let newDigest = try #require(pending[1]["digest"] as? String)
        #expect(newDigest != original)
        let table = try await gateway.latch(["tool", "list"])
        #expect(table.status == 0 && table.stdout.contains("pending") && table.stdout.contains(String(newDigest.prefix(12))), "\(table.stdout)")
        let shown = try await gateway.latch(["tool", "show", "crm.crm_lookup"])
        try #require(shown.status == 0, "\(shown.stderr)")
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let pendingDefinition = try #require((detail["pending"] as? [String: Any])?["definition"] as? [String: Any])
        #expect((pendingDefinition["description"] as? String)?.contains("audit@evil.example") == true)
        // Characters a terminal would act on or hide are shown escaped.
        #expect(shown.stdout.contains("\\u202e") && shown.stdout.contains("\\u200b"), "\(shown.stdout)")
        #expect(!shown.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x200B })
        #expect((detail["accepted"] as? [String: Any])?["digest"] as? String == original)
        #expect(gateway.server.log.contains("upstream tool definition changed"), "a warning names the change")
        #expect(gateway.server.log.contains(String(original.prefix(12))) && gateway.server.log.contains(String(newDigest.prefix(12))))

        // Accepting another digest than the pending one is refused, and changes nothing.
        let wrong = try await gateway.latch(["tool", "accept", "crm.crm_lookup", "--digest", original])
        #expect(wrong.status == 1 && wrong.stderr.contains("nothing was accepted"), "\(wrong.stderr)")
        let short = try await gateway.latch(["tool", "accept", "crm.crm_lookup", "--digest", String(newDigest.prefix(12))])
        #expect(short.status == 64, "a digest prefix is a usage error: \(short.stderr)")
        await #expect(try Self.pins(gateway).count == 3)
        await #expect(GatewayInteropTests.reason(try Self.call(gateway, "crm.crm_lookup")) == "tool_definition_changed")

        // The reviewed digest: accepted, and served again within a refresh.
        let accepted = try await gateway.latch(["tool", "accept", "crm.crm_lookup", "--digest", newDigest.uppercased()])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let pins = try await Self.pins(gateway)
        #expect(pins.map { "\($0["tool"] ?? "") \($0["status"] ?? "")" } == ["crm_lookup accepted", "whoami accepted"])
        #expect(pins.first?["digest"] as? String == newDigest && (pins.first?["accepted_by"] as? String)?.isEmpty == false)
        _ = try await Self.eventually("the accepted tool served again", gateway) { try await Self.listed(gateway).contains("crm.crm_lookup") ? true : nil }
        let after = try await Self.call(gateway, "crm.crm_lookup")
        #expect(after["ok"] as? Bool == true && GatewayInteropTests.text(after).contains("gold"), "\(after)")
        let again = try await gateway.latch(["tool", "accept", "crm.crm_lookup"])
        #expect(again.status == 1 && again.stderr.contains("no pending definition"), "\(again.stderr)")

        #expect(gateway.server.stop() == 0)
        changed.stop()
    }

    @Test("strict: nothing is served until an operator accepts it, and then only what was accepted")
    func strict() async throws {
        let crm = try await HTTPUpstreamServer.start()
        let gateway = try await Self.start(crm: crm, pinning: "strict")
        let pins = try await Self.eventually("the pending pins", gateway) { try await Self.pins(gateway).count == 2 ? try Self.pins(gateway) : nil }
        #expect(pins.map { $0["status"] as? String } == ["pending", "pending"])
        let denied = try await Self.eventually("calls denied", gateway) { () -> [String: Any]? in
            let step = try await Self.call(gateway, "crm.crm_lookup")
            return GatewayInteropTests.reason(step) == "tool_definition_not_accepted" ? step : nil
        }
        #expect(denied["ok"] as? Bool == false)
        await #expect(try Self.listed(gateway).isEmpty, "nothing is listed before an operator accepts it")
        await #expect(GatewayInteropTests.reason(try Self.call(gateway, "crm.whoami")) == "tool_definition_not_accepted")
        await #expect(GatewayInteropTests.reason(try Self.call(gateway, "crm.nothing")) == "unknown_tool", "a tool never listed is still unknown")

        let accepted = try await gateway.latch(["tool", "accept", "crm.crm_lookup"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        _ = try await Self.eventually("the accepted tool served", gateway) { try await Self.listed(gateway).contains("crm.crm_lookup") ? true : nil }
        await #expect(try Self.listed(gateway) == ["crm.crm_lookup"], "whoami is still not accepted")
        await #expect(try Self.call(gateway, "crm.crm_lookup")["ok"] as? Bool == true)
        await #expect(GatewayInteropTests.reason(try Self.call(gateway, "crm.whoami")) == "tool_definition_not_accepted")
        let missing = try await gateway.latch(["tool", "show", "crm.unknown"])
        #expect(missing.status == 1 && missing.stderr.contains("no definition"), "\(missing.stderr)")
        let malformed = try await gateway.latch(["tool", "show", "crm_lookup"])
        #expect(malformed.status == 64, "\(malformed.stderr)")
        #expect(gateway.server.stop() == 0)
    }
}
