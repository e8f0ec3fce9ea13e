import Foundation
import LatchTesting
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The MCP gateway end to end: the reference MCP client (`mcp` 2.3.0, through
/// `Tests/Interop/mcp_agent.py`) gets a grant and calls tools through `latch serve`, which
/// forwards to reference MCP servers (`Tests/Interop/mcp_upstream.py`) over stdio and Streamable
/// HTTP, injecting credentials from the sealed secret store.
@Suite("the MCP gateway through latch serve", .serialized)
struct GatewayInteropTests {
    static let trustDomain = "gateway.test"
    static let agent = "spiffe://gateway.test/agents/researcher"
    static let scope =
        "tool:files.read_file tool:files.list_files tool:files.crash tool:files.whoami tool:mail.send_email tool:crm.crm_lookup tool:crm.whoami domain:docs domain:sales destination:example.com sensitivity:restricted"

    /// A running gateway: the server, its data directory and configuration, the HTTP upstream.
    struct Gateway {
        let directory: TemporaryDirectory
        let server: ServerProcess
        let crm: HTTPUpstreamServer
        let data: String
        let config: String

        func latch(_ arguments: [String], stdin: String? = nil) async throws -> LatchProcess.Result {
            try await LatchProcess.run(arguments + ["--config", self.config, "--data-dir", self.data], in: self.directory, stdin: stdin)
        }

        /// Runs the scripted agent; one JSON object per step.
        func agent(_ steps: String, protocol version: String) async throws -> [[String: Any]] {
            let result = try await self.runAgent(steps, protocol: version)
            try #require(result.status == 0, "mcp_agent.py failed: \(result.stderr)\nserver log:\n\(self.server.log)")
            return result.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }

        /// Runs the reference agent (which first gets a grant) over `steps`, whatever its exit status.
        func runAgent(_ steps: String, protocol version: String) async throws -> LatchProcess.Result {
            let script = try self.directory.write("steps-\(UUID().uuidString).json", steps)
            return try await LatchProcess.run(
                [
                    InteropPython.script("mcp_agent.py"), "--mcp", self.server.http + "/mcp", "--protocol", version, "--socket", self.server.socket,
                    "--http", self.server.http, "--agent", GatewayInteropTests.agent, "--scope", GatewayInteropTests.scope, "--script", script,
                ],
                in: self.directory, executable: URL(fileURLWithPath: try InteropPython.interpreter()))
        }

        /// The task's decision records, newest first.
        func records(task: String) async throws -> [[String: Any]] {
            let listed = try await self.latch(["audit", "list", "--json", "--task", task, "--limit", "1000"])
            try #require(listed.status == 0, "\(listed.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        }
    }

    /// Starts the HTTP upstream (it wants `Bearer crm-credential-7`), stores the credentials as
    /// secrets, registers the agent and starts `latch serve` with three upstreams.
    /// - Parameters:
    ///   - extra: more of `latch.yaml` (e.g. `guard_rules`), appended as is.
    ///   - morePolicies: another policy file's text, beside the example policies.
    static func start(extra: String = "", morePolicies: String? = nil) async throws -> Gateway {
        let directory = try TemporaryDirectory()
        let data = directory.url.appendingPathComponent("data").path
        let crm = try await HTTPUpstreamServer.start(options: ["--require-token", "CRM_EXPECTED"], environment: ["CRM_EXPECTED": "crm-credential-7"])
        let python = try InteropPython.interpreter()
        let upstream = InteropPython.script("mcp_upstream.py")
        let policies = directory.url.appendingPathComponent("policies").path
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: InteropPython.repoRoot.appendingPathComponent("Examples/gateway/policies.cedar").path, toPath: policies + "/gateway.cedar")
        // A policy that cannot be evaluated for one tool: list_files has no `limit` argument.
        try directory.write(
            "policies/broken.cedar",
            """
            @id("broken-for-list-files")
            forbid (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"files.list_files")
            when { context.arguments.limit > 5 };
            """)
        if let morePolicies { try directory.write("policies/more.cedar", morePolicies) }
        try directory.write(
            "latch.yaml",
            """
            trust_domain: \(Self.trustDomain)
            listen: 127.0.0.1:0
            policies: \(policies)
            upstream_refresh_interval: 1s
            upstreams:
              - name: files
                command: \(python)
                args: [\(upstream), --require-token, FILES_EXPECTED]
                env: {FILES_EXPECTED: files-credential-3, UPSTREAM_API_KEY: "${secret:files_key}"}
                labels: {sensitivity: internal, data_domain: docs}
              - name: mail
                command: \(python)
                args: [\(upstream)]
                tools:
                  send_email: {sensitivity: public, egress: external, side_effects: write, destination_argument: to}
              - name: crm
                url: \(crm.url)
                headers: {Authorization: "Bearer ${secret:crm_token}"}
                tools:
                  crm_lookup: {sensitivity: confidential, data_domain: sales}
                  whoami: {sensitivity: public}
            """ + extra)
        let config = directory.url.appendingPathComponent("latch.yaml").path
        let created = try await LatchProcess.run(
            ["entry", "create", "--config", config, "--data-dir", data, "--spiffe-id", Self.agent, "--selector", "unix:uid:\(getuid())",
             "--attribute", "team=interop"],
            in: directory)
        try #require(created.status == 0, "entry create failed: \(created.stderr)")
        for (name, value) in [("files_key", "files-credential-3"), ("crm_token", "crm-credential-7")] {
            // Sealed under the data directory's KEK, which the server then uses too.
            let set = try await LatchProcess.run(["secret", "set", name, "--config", config, "--data-dir", data], in: directory, stdin: value)
            try #require(set.status == 0, "secret set failed: \(set.stderr)")
        }
        let server = try await ServerProcess(
            ["--config", config, "--data-dir", data, "--workload-api-socket", directory.url.appendingPathComponent("run/api.sock").path],
            in: directory)
        let gateway = Gateway(directory: directory, server: server, crm: crm, data: data, config: config)
        try await Self.waitForTools(gateway, count: 3)
        return gateway
    }

    /// Waits until the server has listed its upstreams (its log names the served tools).
    static func waitForTools(_ gateway: Gateway, count: Int) async throws {
        let listed = try await Polling.eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            gateway.server.log.components(separatedBy: "upstream tools listed").count - 1 >= count ? true : nil
        }
        guard listed != nil else { throw ServerProcess.ServerFailed(description: "upstreams not listed:\n\(gateway.server.log)") }
    }

    @Test(
        "guard_rules through latch serve: a rate rule denies, egress after a confidential read kills the task, its grant is dead, and the webhook is told"
    )
    func guardRules() async throws {
        // The webhook: a receiver (standard library only) appending each POST body as a line.
        let receiver = try TemporaryDirectory()
        let alerts = receiver.url.appendingPathComponent("alerts.jsonl").path
        let portFile = receiver.url.appendingPathComponent("port").path
        let script = try receiver.write(
            "receiver.py",
            """
            import os, sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            class Handler(BaseHTTPRequestHandler):
                def log_message(self, *args): pass
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                    with open(sys.argv[1], "ab") as out: out.write(body + b"\\n")
                    self.send_response(204); self.end_headers()
            server = HTTPServer(("127.0.0.1", 0), Handler)
            with open(sys.argv[2] + ".new", "w") as out: out.write(str(server.server_address[1]))
            os.rename(sys.argv[2] + ".new", sys.argv[2])
            server.serve_forever()
            """)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: try InteropPython.interpreter())
        python.arguments = [receiver.url.appendingPathComponent(script).path, alerts, portFile]
        try ProcessLaunch.start(python)
        defer {
            // SIGKILL: the test process's children may inherit an ignored SIGTERM.
            kill(python.processIdentifier, SIGKILL)
            python.waitUntilExit()
        }
        let port = try #require(
            try await Polling.eventually(timeout: .seconds(60)) {
                (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 }
            }, "the webhook receiver did not start")
        let gateway = try await Self.start(
            extra: """

                guard_webhook: http://127.0.0.1:\(port)/alerts
                guard_rules:
                  - id: whoami-rate
                    rate: {limit: 1, window: 1m}
                    tools: ["*.whoami"]
                    action: deny
                    reason: rate_limit
                  - id: exfil-after-confidential-read
                    after: {sensitivity: confidential}
                    egress: external
                    action: kill
                    reason: chain_anomaly
                """)
        let steps = try await gateway.agent(
            """
            [{"op": "call", "tool": "crm.whoami"},
             {"op": "call", "tool": "files.whoami"},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "s", "body": "b"}},
             {"op": "call", "tool": "crm.crm_lookup", "arguments": {"customer": "acme"}},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "s", "body": "acme is gold"}},
             {"op": "list_tools"}]
            """, protocol: "2026-07-28")
        try #require(steps.count == 6, "\(steps)")
        #expect(steps[0]["ok"] as? Bool == true, "\(steps[0])")
        #expect(Self.reason(steps[1]) == "rate_limit", "one whoami a minute, across upstreams: \(steps[1])")
        #expect(steps[2]["ok"] as? Bool == true, "egress before any confidential read: \(steps[2])")
        #expect(steps[3]["ok"] as? Bool == true, "\(steps[3])")
        #expect(Self.reason(steps[4]) == "chain_anomaly", "\(steps[4])")
        let policies = ((steps[4]["error"] as? [String: Any])?["data"] as? [String: Any])?["policies"] as? [String]
        #expect(policies == ["guard/exfil-after-confidential-read"])
        #expect(steps[5]["http_status"] as? Int == 401, "the kill switch revoked the task: \(steps[5])")
        #expect(gateway.server.log.contains("guard kill switch"), "the kill is logged")
        let records = try await gateway.latch(["audit", "list", "--json"])
        #expect(records.status == 0 && records.stdout.contains("chain_anomaly") && records.stdout.contains("rate_limit"), "\(records.stdout)")
        // The webhook was told, in the background, of the one kill.
        let told: [[String: Any]] = try await Polling.eventually(timeout: .seconds(60)) {
            let lines = ((try? String(contentsOfFile: alerts, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            return lines.isEmpty ? nil : lines
        } ?? []
        try #require(told.count == 1, "\(told)\n\(gateway.server.log)")
        #expect(told[0]["event"] as? String == "guard.kill" && told[0]["reason"] as? String == "chain_anomaly" && told[0]["revoked"] as? Bool == true)
        #expect(told[0]["rules"] as? [String] == ["exfil-after-confidential-read"] && told[0]["agent"] as? String == Self.agent)
        #expect(records.stdout.contains(told[0]["decision_id"] as? String ?? "none"), "the alert names the call's record")
        #expect(told[0]["quarantined"] as? Bool == true)

        // The agent is quarantined: a new task gets no grant until an operator releases it.
        let quarantined = try await gateway.latch(["quarantine", "list", "--json"])
        #expect(quarantined.status == 0 && quarantined.stdout.contains(Self.agent) && quarantined.stdout.contains("chain_anomaly"), "\(quarantined.stdout)")
        let refused = try await gateway.runAgent(#"[{"op": "list_tools"}]"#, protocol: "2026-07-28")
        #expect(refused.status != 0 && refused.stderr.contains("agent_quarantined"), "\(refused.stderr)")
        let released = try await gateway.latch(["quarantine", "release", Self.agent, "--as", "operator", "--note", "re-attested"])
        #expect(released.status == 0, "\(released.stderr)")
        let back = try await Polling.eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            let run = try await gateway.runAgent(#"[{"op": "call", "tool": "files.whoami"}]"#, protocol: "2026-07-28")
            return run.status == 0 ? run : nil
        }
        #expect(back?.stdout.contains("\"ok\": true") == true, "released: the server's next poll lets it back in: \(String(describing: back?.stdout))")
        #expect(gateway.server.stop() == 0)
    }

    @Test(
        "approvals through latch serve: the reference client is held (2025-11-25: an error naming the approval; 2026-07-28: input_required with a requestState), latch approvals approve runs, the retry succeeds once, a second is approval_consumed",
        arguments: ["2025-11-25", "2026-07-28"]
    )
    func approvals(_ version: String) async throws {
        let gateway = try await Self.start(
            morePolicies: """
                @id("invoice-mail")
                @approvable("mail about an invoice")
                forbid (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"mail.send_email")
                when { context.arguments has subject && context.arguments.subject == "invoice" };
                """)
        let signal = gateway.directory.url.appendingPathComponent("approved").path
        let mail = #"{"tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "pay 42"}}"#
        // The retry names the approval: at 2025-11-25 in _meta, from the error; at 2026-07-28 by echoing the requestState.
        let retry = version == "2026-07-28" ? #""state_from": 0"# : #""approval_from": 0"#
        let steps = """
            [\(mail.dropLast()), "op": "call"},
             {"op": "wait_file", "path": "\(signal)", "timeout": 120},
             \(mail.dropLast()), "op": "call", \(retry)},
             \(mail.dropLast()), "op": "call", \(retry)}]
            """
        // The agent runs in the background: it holds, waits for the operator, then retries twice.
        let script = try gateway.directory.write("steps-approvals.json", steps)
        let output = gateway.directory.url.appendingPathComponent("agent.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try InteropPython.interpreter())
        agent.arguments = [
            InteropPython.script("mcp_agent.py"), "--mcp", gateway.server.http + "/mcp", "--protocol", version, "--socket", gateway.server.socket,
            "--http", gateway.server.http, "--agent", Self.agent, "--scope", Self.scope, "--script", gateway.directory.url.appendingPathComponent(script).path,
        ]
        agent.standardOutput = try FileHandle(forWritingTo: output)
        agent.standardError = FileHandle.nullDevice
        try ProcessLaunch.start(agent)
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }

        // The operator finds the pending approval and approves it.
        let pending: [[String: Any]] = try await Polling.eventually(timeout: .seconds(120), every: .milliseconds(100)) {
            let listed = try await gateway.latch(["approvals", "list", "--status", "pending", "--json"])
            try #require(listed.status == 0, "\(listed.stderr)")
            let found = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]) ?? []
            return found.isEmpty ? nil : found
        } ?? []
        try #require(pending.count == 1, "\(gateway.server.log)")
        let id = try #require(pending[0]["id"] as? String)
        #expect(pending[0]["tool"] as? String == "mail.send_email" && pending[0]["reason"] as? String == "mail about an invoice")
        let approved = try await gateway.latch(["approvals", "approve", id, "--as", "operator", "--note", "expected invoice"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let twice = try await gateway.latch(["approvals", "approve", id, "--as", "operator"])
        #expect(twice.status == 1 && twice.stderr.contains("already approved"))
        _ = try gateway.directory.write("approved", "go")
        _ = try await Polling.eventually(timeout: .seconds(120)) { agent.isRunning ? nil : true }
        #expect(!agent.isRunning && agent.terminationStatus == 0)

        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        let results = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        try #require(results.count == 4, "\(lines)\n\(gateway.server.log)")
        let held = Self.data(results[0])
        #expect(Self.reason(results[0]) == "approval_required" && held?["approval_id"] as? String == id, "\(results[0])")
        if version == "2026-07-28" {
            let result = results[0]["result"] as? [String: Any]
            #expect(result?["resultType"] as? String == "input_required" && (result?["requestState"] as? String)?.isEmpty == false, "\(results[0])")
        } else {
            #expect((results[0]["error"] as? [String: Any])?["code"] as? Int == -32010, "\(results[0])")
        }
        #expect(held?["approval_expires_at"] is Int)
        #expect(results[2]["ok"] as? Bool == true, "the approved retry is sent: \(results[2])")
        #expect(Self.reason(results[3]) == "approval_consumed", "\(results[3])")

        let shown = try await gateway.latch(["approvals", "show", id])
        #expect(shown.status == 0 && shown.stdout.contains("\"consumed\""), "\(shown.stdout)")
        let opened = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any], "\(shown.stdout)\(shown.stderr)")
        let arguments = opened["arguments"] as? [String: Any]
        #expect(arguments?["body"] as? String == "pay 42" && arguments?["to"] as? String == "ops@example.com", "opened with the KEK: \(shown.stdout)")
        #expect((opened["risk"] as? [String: Any])?["reason"] as? String == "mail about an invoice", "\(shown.stdout)")
        let records = try await gateway.latch(["audit", "list", "--json"])
        let all = (try? JSONSerialization.jsonObject(with: Data(records.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(
            all.filter { $0["approval_id"] as? String == id }.count == 5, "held, approved (latch/approval), released (decision and outcome), consumed: \(records.stdout)")
        #expect(all.contains { $0["method"] as? String == "latch/approval" && $0["subject"] as? String == "operator:operator" }, "the CLI's decision is in the ledger")
        #expect(gateway.server.stop() == 0)
    }

    /// A denial's error `data`, or a held call's input-required `_meta["dev.latch/approval"]`.
    static func data(_ step: [String: Any]) -> [String: Any]? {
        ((step["error"] as? [String: Any])?["data"] as? [String: Any])
            ?? (((step["result"] as? [String: Any])?["_meta"] as? [String: Any])?["dev.latch/approval"] as? [String: Any])
    }

    static func reason(_ step: [String: Any]) -> String? { Self.data(step)?["reason"] as? String }

    static func text(_ step: [String: Any]) -> String {
        (((step["result"] as? [String: Any])?["content"] as? [[String: Any]])?.first?["text"] as? String) ?? ""
    }

    @Test(
        "the reference client lists only what its grant allows, calls through Latch with credentials injected, is denied out of scope and after reading restricted data, and every call is recorded",
        arguments: ["2025-11-25", "2026-07-28"])
    func endToEnd(_ version: String) async throws {
        let gateway = try await Self.start()
        let steps = try await gateway.agent(
            """
            [{"op": "list_tools"},
             {"op": "call", "tool": "files.read_file", "arguments": {"path": "public/readme.txt"}},
             {"op": "call", "tool": "crm.crm_lookup", "arguments": {"customer": "acme"}},
             {"op": "call", "tool": "crm.whoami", "validate": false},
             {"op": "call", "tool": "files.whoami", "validate": false},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "bob@example.com", "subject": "pipeline", "body": "summary"}},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "eve@evil.test", "subject": "pipeline", "body": "summary"}},
             {"op": "call", "tool": "mail.http_fetch", "arguments": {"url": "https://example.com"}},
             {"op": "call", "tool": "files.list_files"},
             {"op": "call", "tool": "files.read_file", "arguments": {"path": "secret/salaries.csv"}},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "bob@example.com", "subject": "salaries", "body": "see attached"}},
             {"op": "complete"},
             {"op": "list_tools"}]
            """, protocol: version)
        try #require(steps.count == 13, "\(steps)")
        // Listing: the scope's tools that are served and labelled; not mail.http_fetch (unlabelled), not files.echo (not in scope).
        let listed = Set(steps[0]["result"] as? [String] ?? [])
        #expect(
            listed == ["files.read_file", "files.list_files", "files.crash", "files.whoami", "mail.send_email", "crm.crm_lookup", "crm.whoami"],
            "\(steps[0])")
        #expect(steps[1]["ok"] as? Bool == true && Self.text(steps[1]).contains("Acme demo data"), "\(steps[1])")
        #expect(steps[2]["ok"] as? Bool == true && Self.text(steps[2]).contains("gold"), "\(steps[2])")
        // The upstreams saw the credentials Latch injected (the agent never had them).
        #expect(Self.text(steps[3]).contains("\"credential\": \"matched\""), "\(steps[3])")
        #expect(Self.text(steps[4]).contains("\"credential\": \"matched\""), "\(steps[4])")
        #expect(steps[5]["ok"] as? Bool == true, "\(steps[5])")
        #expect(Self.reason(steps[6]) == "destination_not_in_grant", "\(steps[6])")
        #expect(Self.reason(steps[7]) == "unknown_tool", "\(steps[7])")
        #expect(Self.reason(steps[8]) == "policy_error", "\(steps[8])")
        #expect(steps[9]["ok"] as? Bool == true && Self.text(steps[9]).contains("alice"), "\(steps[9])")
        #expect(Self.reason(steps[10]) == "policy_denied", "\(steps[10])")
        let policies = ((steps[10]["error"] as? [String: Any])?["data"] as? [String: Any])?["policies"] as? [String]
        #expect(policies == ["no-egress-after-restricted-read"])
        #expect(steps[11]["ok"] as? Bool == true, "\(steps[11])")
        #expect(steps[12]["http_status"] as? Int == 401, "a completed task's grant is dead: \(steps[12])")

        // One record per call, allowed or denied, joined to the task; the denials name their reason.
        let task = try #require((steps[11]["result"] as? [String: Any])?["task_id"] as? String)
        // A forwarded call has a decision record (stored before it was sent) and an outcome.
        let all = try await gateway.records(task: task)
        let records = all.filter { $0["decision_id"] == nil }
        let outcomes = all.filter { $0["decision_id"] != nil }
        #expect(records.count == 10 && outcomes.count == 6, "\(all)")
        for decision in records where decision["allowed"] as? Bool == true {
            #expect(decision["upstream"] as? String == "forwarded")
            #expect(outcomes.contains { $0["decision_id"] as? String == decision["id"] as? String && $0["upstream"] as? String == "ok" }, "\(decision)")
        }
        let reasons = records.reversed().map { ($0["tool"] as? String ?? "", $0["allowed"] as? Bool ?? false, $0["reason"] as? String ?? "") }
        #expect(reasons.map(\.0) == ["files.read_file", "crm.crm_lookup", "crm.whoami", "files.whoami", "mail.send_email", "mail.send_email", "mail.http_fetch", "files.list_files", "files.read_file", "mail.send_email"])
        #expect(reasons.map(\.1) == [true, true, true, true, true, false, false, false, true, false])
        #expect(records.allSatisfy { ($0["arguments_hmac"] as? String)?.count == 64 && ($0["trace_id"] as? String)?.count == 32 })
        #expect(records.first { $0["reason"] as? String == "destination_not_in_grant" }?["destination"] as? String == "evil.test")

        #expect(gateway.server.stop() == 0)
        for secret in ["files-credential-3", "crm-credential-7"] {
            #expect(!gateway.server.log.contains(secret), "no credential may be logged")
        }
        #expect(!gateway.server.log.contains("eyJ"), "no token may be logged")
    }
}

extension GatewayInteropTests {
    static let envelope = #"{"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}, "io.modelcontextprotocol/clientCapabilities": {}}"#

    /// A raw 2026-07-28 `tools/call` step: headers as given, the body naming `tool`.
    static func rawCall(tool: String, headerName: String, method: String = "tools/call") -> String {
        """
        {"op": "raw", "headers": {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "\(method)", "Mcp-Name": "\(headerName)"},
         "body": {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "\(tool)", "arguments": {"path": "public/readme.txt"}, "_meta": \(Self.envelope)}}}
        """
    }

    @Test("bad input gets a clear error and is not forwarded; a dying upstream, a missing credential and a policy error deny; the gateway keeps serving")
    func badInputAndFailClosed() async throws {
        let gateway = try await Self.start()
        let big = String(repeating: "x", count: 1_200_000)
        let steps = try await gateway.agent(
            """
            [{"op": "list_tools"},
             {"op": "raw", "headers": {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, "body": "{not json"},
             {"op": "raw", "headers": {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}, "body": "\(big)"},
             \(Self.rawCall(tool: "files.crash", headerName: "files.read_file")),
             \(Self.rawCall(tool: "files.read_file", headerName: "files.read_file", method: "tools/list")),
             {"op": "raw", "headers": {"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "tools/list"}, "body": {"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": {"_meta": \(Self.envelope)}}},
             {"op": "raw", "body": [{"jsonrpc": "2.0", "id": 9, "method": "tools/list"}], "headers": {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list"}},
             {"op": "call_without_proof", "tool": "files.crash", "validate": false},
             {"op": "call", "tool": "files.crash", "auth": "bearer", "validate": false},
             {"op": "call", "tool": "files.crash", "auth": "wrong_htu", "validate": false},
             {"op": "call", "tool": "files.crash", "auth": "wrong_key", "validate": false},
             {"op": "call", "tool": "files.read_file", "arguments": {"path": "public/readme.txt"}, "validate": false},
             {"op": "call", "tool": "files.crash", "auth": "replay", "validate": false},
             {"op": "call", "tool": "files.list_files", "validate": false},
             {"op": "call", "tool": "files.crash", "validate": false},
             {"op": "list_tools"}]
            """, protocol: "2026-07-28")
        try #require(steps.count == 16, "\(steps)")
        func code(_ step: [String: Any]) -> Int? { (step["error"] as? [String: Any])?["code"] as? Int }
        #expect(steps[0]["ok"] as? Bool == true)
        #expect(steps[1]["http_status"] as? Int == 400 && code(steps[1]) == -32700, "malformed JSON: \(steps[1])")
        #expect(steps[2]["http_status"] as? Int == 413, "oversized body: \(steps[2])")
        #expect(steps[3]["http_status"] as? Int == 400 && code(steps[3]) == -32020, "Mcp-Name differs from the body: \(steps[3])")
        #expect(steps[4]["http_status"] as? Int == 400 && code(steps[4]) == -32020, "Mcp-Method differs from the body: \(steps[4])")
        #expect(steps[5]["http_status"] as? Int == 400 && code(steps[5]) == -32022, "unknown protocol version: \(steps[5])")
        #expect(steps[6]["http_status"] as? Int == 400 && code(steps[6]) == -32600, "batch: \(steps[6])")
        for index in 7...10 {
            #expect(steps[index]["http_status"] as? Int == 401, "unauthenticated (\(index)): \(steps[index])")
        }
        #expect(steps[11]["ok"] as? Bool == true, "\(steps[11])")
        #expect(steps[12]["http_status"] as? Int == 401, "a replayed proof: \(steps[12])")
        #expect(Self.reason(steps[13]) == "policy_error", "\(steps[13])")
        #expect(code(steps[14]) == -32012, "the upstream died mid-call: \(steps[14])")
        #expect(steps[15]["ok"] as? Bool == true, "the gateway keeps serving: \(steps[15])")
        // Only the three authenticated, well-formed calls were decided (and recorded); everything
        // refused before a decision reached no upstream and is no record.
        let listedFirst = try await gateway.latch(["audit", "list", "--json", "--limit", "1000"])
        let first = try #require(try JSONSerialization.jsonObject(with: Data(listedFirst.stdout.utf8)) as? [[String: Any]])
        let decisions = first.filter { $0["decision_id"] == nil }
        #expect(decisions.map { $0["tool"] as? String ?? "" }.reversed() == ["files.read_file", "files.list_files", "files.crash"], "\(first)")
        #expect(first.first?["upstream"] as? String == "unavailable", "the crash's outcome: \(first)")

        // The upstream restarts: the next call works again.
        var restarted = false
        for _ in 0..<20 where !restarted {
            let again = try await gateway.agent(#"[{"op": "call", "tool": "files.read_file", "arguments": {"path": "public/readme.txt"}, "validate": false}]"#, protocol: "2026-07-28")
            restarted = again.first?["ok"] as? Bool == true
            if !restarted { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(restarted, "the crashed upstream was not restarted:\n\(gateway.server.log)")

        // A credential deleted from the secret store: the upstream's calls are denied, and recorded.
        let deleted = try await gateway.latch(["secret", "delete", "crm_token"])
        try #require(deleted.status == 0, "\(deleted.stderr)")
        var denied: [String: Any]?
        for _ in 0..<40 where denied == nil {
            let step = try await gateway.agent(#"[{"op": "call", "tool": "crm.crm_lookup", "arguments": {"customer": "acme"}, "validate": false}]"#, protocol: "2026-07-28")
            if Self.reason(step[0]) == "credential_unavailable" { denied = step[0] } else { try await Task.sleep(for: .milliseconds(250)) }
        }
        let decision = try #require(((denied?["error"] as? [String: Any])?["data"] as? [String: Any])?["decision_id"] as? String, "no credential_unavailable denial")
        let listed = try await gateway.latch(["audit", "list", "--json", "--limit", "1000"])
        let all = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(all.contains { $0["id"] as? String == decision && $0["reason"] as? String == "credential_unavailable" && $0["allowed"] as? Bool == false })
        #expect(gateway.server.stop() == 0)
    }
}
