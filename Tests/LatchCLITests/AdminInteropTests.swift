import Foundation
import LatchTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Operators and the admin API through `latch serve`: `latch operator add` prints a token once;
/// `/admin/approvals` lists and decides held calls for whoever holds a token, as that operator;
/// the decision is in the ledger.
@Suite("latch serve's admin API")
struct AdminInteropTests {
    static let policy = """
        @id("invoice-mail")
        @approvable("mail about an invoice")
        forbid (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"mail.send_email")
        when { context.arguments has subject && context.arguments.subject == "invoice" };
        """

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: Any? { try? JSONSerialization.jsonObject(with: self.body) }
        var object: [String: Any] { (self.json as? [String: Any]) ?? [:] }
    }

    static func http(_ method: String, _ url: String, token: String? = nil, body: Data? = nil) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        if let token { request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }

    /// A gateway with the approvable policy and an operator `alice` (her token).
    static func operatorGateway(
        extra: String = ""
    ) async throws -> (
        GatewayInteropTests.Gateway, token: String
    ) {
        let gateway = try await GatewayInteropTests.start(extra: extra, morePolicies: Self.policy)
        let added = try await gateway.latch(["operator", "add", "alice"])
        try #require(added.status == 0, "\(added.stderr)")
        let token = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("latch_op_") && token.count == 52, "\(token)")
        return (gateway, token)
    }

    @Test(
        "the admin API: 401 without or with a bad token; lists held calls opened; decides once as the operator (409 again, 404 unknown, 400 bad body); recorded in the ledger; a removed operator's token stops working"
    )
    func adminAPI() async throws {
        let (gateway, token) = try await Self.operatorGateway()
        let held = try await gateway.agent(
            #"[{"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "pay 42"}, "meta": {"dev.latch/prompt": "settle it"}}]"#,
            protocol: "2026-07-28")
        #expect(GatewayInteropTests.reason(held[0]) == "approval_required", "\(held)")
        let base = gateway.server.http + "/admin"

        #expect(try await Self.http("GET", base + "/approvals").status == 401)
        let bad = try await Self.http("GET", base + "/approvals", token: "latch_op_wrong")
        #expect(bad.status == 401 && bad.headers["www-authenticate"]?.hasPrefix("Bearer") == true)

        let listed = try await Self.http("GET", base + "/approvals?status=pending", token: token)
        try #require(listed.status == 200, "\(String(decoding: listed.body, as: UTF8.self))")
        #expect(listed.headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'")
        #expect(listed.headers["x-content-type-options"] == "nosniff" && listed.headers["cache-control"] == "no-store")
        let approvals = try #require(listed.json as? [[String: Any]])
        try #require(approvals.count == 1)
        let id = try #require(approvals[0]["id"] as? String)
        let arguments = approvals[0]["arguments"] as? [String: Any]
        #expect(arguments?["body"] as? String == "pay 42" && arguments?["subject"] as? String == "invoice", "\(approvals[0])")
        let risk = approvals[0]["risk"] as? [String: Any]
        #expect(risk?["destination"] as? String == "example.com" && (risk?["labels"] as? [String: Any])?["egress"] as? String == "external")
        #expect(try await Self.http("GET", base + "/approvals?status=waiting", token: token).status == 400)

        let one = try await Self.http("GET", base + "/approvals/" + id, token: token)
        #expect(one.status == 200 && one.object["id"] as? String == id)
        #expect(try await Self.http("GET", base + "/approvals/nope", token: token).status == 404)

        let approve = base + "/approvals/" + id + "/approve"
        #expect(try await Self.http("POST", approve, body: Data(#"{"note": "ok"}"#.utf8)).status == 401, "deciding needs a token")
        #expect(try await Self.http("POST", approve, token: token, body: Data("{not json".utf8)).status == 400)
        #expect(try await Self.http("POST", approve, token: token, body: Data(#"{"note": "ok", "decided_by": "mallory"}"#.utf8)).status == 400)
        #expect(try await Self.http("POST", approve, token: token, body: Data(#"{"note": 7}"#.utf8)).status == 400)
        let huge = Data(("{\"note\": \"" + String(repeating: "x", count: 40_000) + "\"}").utf8)
        #expect(try await Self.http("POST", approve, token: token, body: huge).status == 400)
        #expect(try await Self.http("POST", base + "/approvals/nope/approve", token: token).status == 404)

        let decided = try await Self.http("POST", approve, token: token, body: Data(#"{"note": "expected invoice"}"#.utf8))
        try #require(decided.status == 200, "\(String(decoding: decided.body, as: UTF8.self))")
        #expect(decided.object["decided_by"] as? String == "alice" && decided.object["status"] as? String == "approved")
        #expect(decided.object["note"] as? String == "expected invoice")
        let again = try await Self.http("POST", base + "/approvals/" + id + "/deny", token: token)
        #expect(again.status == 409 && again.object["error"] as? String == "already_decided", "\(again.object)")

        // The decision is in the ledger: audit trace shows who approved what.
        let task = try #require(approvals[0]["task_id"] as? String)
        let trace = try await gateway.latch(["audit", "trace", task])
        #expect(trace.status == 0 && trace.stdout.contains("approval \(id) of mail.send_email approved by operator:alice"), "\(trace.stdout)")
        await #expect(try gateway.latch(["audit", "verify"]).status == 0)

        let operators = try await gateway.latch(["operator", "list"])
        #expect(operators.status == 0 && operators.stdout.hasPrefix("alice  "), "\(operators.stdout)")
        await #expect(try gateway.latch(["operator", "add", "alice"]).status == 1, "a name is added once")
        await #expect(try gateway.latch(["operator", "remove", "alice"]).status == 0)
        #expect(try await Self.http("GET", base + "/approvals", token: token).status == 401, "a removed operator's token stops working")
        await #expect(try gateway.latch(["operator", "remove", "alice"]).status == 1)

        let page = try await Self.http("GET", base + "/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.headers["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'")
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains(#"<script src="/admin/app.js"></script>"#) && !html.contains("<script>"), "no inline script")
        let script = try await Self.http("GET", base + "/app.js")
        #expect(script.status == 200 && script.headers["content-type"]?.hasPrefix("text/javascript") == true)
        let code = String(decoding: script.body, as: UTF8.self)
        #expect(!code.contains("innerHTML") && !code.contains("document.cookie"))
        #expect(gateway.server.stop() == 0)
    }

    @Test(
        "the approval page in headless Chromium: shows the held call (arguments as text, never HTML), an approval made on the page releases the call once, approving again is refused (409 on the page and from the API), an approval left to expire denies the retry approval_timeout"
    )
    func approvalPage() async throws {
        // Long enough for the browser on a loaded machine, short enough to wait out.
        let ttl = 40
        let (gateway, token) = try await Self.operatorGateway(extra: "\napproval_ttl: \(ttl)s\n")
        let attack = "pay 42 <img src=x onerror=\\\"window.__pwned=true\\\">"
        let first = gateway.directory.url.appendingPathComponent("first").path
        let second = gateway.directory.url.appendingPathComponent("second").path
        let steps = """
            [{"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "\(attack)"}, "meta": {"dev.latch/prompt": "pay the <b>bill</b>"}},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "pay 7"}},
             {"op": "wait_file", "path": "\(first)", "timeout": 180},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "\(attack)"}, "approval_from": 0},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "\(attack)"}, "approval_from": 0},
             {"op": "wait_file", "path": "\(second)", "timeout": 180},
             {"op": "call", "tool": "mail.send_email", "arguments": {"to": "ops@example.com", "subject": "invoice", "body": "pay 7"}, "approval_from": 1}]
            """
        let script = try gateway.directory.write("steps-page.json", steps)
        let output = gateway.directory.url.appendingPathComponent("agent.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: try InteropPython.interpreter())
        agent.arguments = [
            InteropPython.script("mcp_agent.py"), "--mcp", gateway.server.http + "/mcp", "--protocol", "2026-07-28", "--socket",
            gateway.server.socket,
            "--http", gateway.server.http, "--agent", GatewayInteropTests.agent, "--scope", GatewayInteropTests.scope, "--script",
            gateway.directory.url.appendingPathComponent(script).path,
        ]
        agent.standardOutput = try FileHandle(forWritingTo: output)
        agent.standardError = FileHandle.nullDevice
        try ProcessLaunch.start(agent)
        defer { if agent.isRunning { kill(agent.processIdentifier, SIGKILL) } }

        var pending: [[String: Any]] = []
        let deadline = ContinuousClock.now.advanced(by: .seconds(120))
        while pending.count < 2, ContinuousClock.now < deadline {
            let listed = try await Self.http("GET", gateway.server.http + "/admin/approvals?status=pending", token: token)
            pending = (listed.json as? [[String: Any]]) ?? []
            if pending.count < 2 { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(pending.count == 2, "\(gateway.server.log)")
        let held = try #require(pending.first { ($0["arguments"] as? [String: Any])?["body"] as? String != "pay 7" })
        let left = try #require(pending.first { ($0["arguments"] as? [String: Any])?["body"] as? String == "pay 7" })
        let heldID = try #require(held["id"] as? String)
        let leftExpiry = try #require(left["expires_at"] as? Int)

        let driven = try await LatchProcess.run(
            [InteropPython.script("admin_page.py"), "--base", gateway.server.http, "--token", token, "--approve", heldID], in: gateway.directory,
            executable: URL(fileURLWithPath: try InteropPython.interpreter()))
        try #require(driven.status == 0, "\(driven.stderr)")
        let page = try #require(try JSONSerialization.jsonObject(with: Data(driven.stdout.utf8)) as? [String: Any], "\(driven.stdout)")
        let shown = page["shown"] as? [String: String] ?? [:]
        #expect(shown["tool"] == "mail.send_email" && shown["agent"] == GatewayInteropTests.agent && shown["task"] == held["task_id"] as? String)
        #expect(shown["arguments"]?.contains(#"<img src=x onerror=\"window.__pwned=true\">"#) == true, "shown as text: \(shown)")
        #expect(shown["prompt"] == "pay the <b>bill</b>" && shown["reason"] == "mail about an invoice" && shown["policies"] == "invoice-mail")
        #expect(shown["risk"]?.contains(#""egress": "external""#) == true && shown["expires"]?.hasSuffix("Z") == true, "\(shown)")
        #expect(page["images"] as? Int == 0 && page["pwned"] as? Bool == false, "the argument's markup is text, not elements")
        #expect((page["first"] as? String)?.hasPrefix("approved by alice") == true, "\(page)")
        #expect((page["second"] as? String)?.hasPrefix("error 409") == true, "the page shows the refusal: \(page)")
        #expect(page["api_again"] as? Int == 409)
        #expect((page["cookies"] as? [Any])?.isEmpty == true && page["stored"] as? Bool == true)
        // The browser logs the 409 (and the favicon's 404) as failed loads; nothing else, and no CSP violation.
        let console = (page["console"] as? [String] ?? []).filter { !$0.hasPrefix("Failed to load resource") }
        #expect(console.isEmpty, "no console error (no CSP violation): \(page)")

        // The agent retries: released once, then consumed.
        _ = try gateway.directory.write("first", "go")
        // The other approval is left to expire; then its retry is denied.
        let now = Int(Date().timeIntervalSince1970 * 1000)
        if leftExpiry > now { try await Task.sleep(for: .milliseconds(leftExpiry - now + 500)) }
        _ = try gateway.directory.write("second", "go")
        _ = try await Polling.eventually(timeout: .seconds(120)) { agent.isRunning ? nil : true }
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        let results = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        try #require(results.count == 7, "\(lines)\n\(gateway.server.log)")
        #expect(GatewayInteropTests.reason(results[0]) == "approval_required" && GatewayInteropTests.reason(results[1]) == "approval_required")
        #expect(results[3]["ok"] as? Bool == true, "the call approved on the page is released: \(results[3])")
        #expect(GatewayInteropTests.reason(results[4]) == "approval_consumed", "\(results[4])")
        #expect(GatewayInteropTests.reason(results[6]) == "approval_timeout", "\(results[6])")
        let trace = try await gateway.latch(["audit", "trace", try #require(held["task_id"] as? String)])
        #expect(trace.stdout.contains("approval \(heldID) of mail.send_email approved by operator:alice"), "\(trace.stdout)")
        #expect(gateway.server.stop() == 0)
    }
}
