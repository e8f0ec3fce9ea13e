import LatchCore
import LatchGateway
import LatchIdentity

/// What `latch demo`'s agent does, step by step, and what each step is expected to come to. It
/// prints one line per step as it goes (✔ allowed or done, ✘ refused) and notes any step that
/// did not go as scripted.
///
/// The story: an agent of team `interop` gets a grant to summarize the Q3 pipeline and mail it to
/// the sales team. It reads a public file and a CRM record and mails the summary (allowed); it
/// tries a tool its grant does not name (denied: `tool_not_in_grant`); it reads a file labelled
/// restricted (allowed: the grant reaches restricted data), after which mailing anything out is
/// denied by the policy `no-egress-after-restricted-read`; it completes the task, and its grant
/// is dead (401).
struct DemoScript: Sendable {
    /// What a call is expected to come to.
    enum Expectation: Hashable, Sendable, CustomStringConvertible {
        case allowed
        /// Denied with this reason code, by (at least) these policies.
        case denied(reason: String, policies: [String])

        var allowed: Bool { self == .allowed }
        var reason: String? { if case .denied(let reason, _) = self { reason } else { nil } }

        var description: String {
            switch self {
            case .allowed: "allowed"
            case .denied(let reason, let policies): "denied " + reason + (policies.isEmpty ? "" : " [\(policies.joined(separator: ", "))]")
            }
        }
    }

    /// One scripted `tools/call`.
    struct Call: Sendable {
        let tool: String
        let arguments: [String: JSONValue]
        /// The arguments as the output shows them.
        let shown: String
        let expectation: Expectation
    }

    /// What one call came back with, as the agent saw it.
    struct Observed: Sendable {
        let call: Call
        /// The W3C trace ID the agent sent with the call (its record carries it).
        let traceID: String
        var allowed = false
        var reason: String?
        var policies: [String] = []
        /// The `decision_id` of a denial.
        var decisionID: String?
    }

    /// The run so far: the task, every call, and each step that did not go as scripted.
    struct Outcome: Sendable {
        var taskID: String?
        var calls: [Observed] = []
        var differences: [String] = []
    }

    static let upstream = "demo"
    static let intent = "summarize the Q3 pipeline and mail it to the sales team"
    static let scope =
        "tool:demo.read_file tool:demo.list_files tool:demo.crm_lookup tool:demo.send_email domain:docs domain:sales destination:example.com sensitivity:restricted"
    /// What `tools/list` shows for the grant: its tools, not `demo.http_fetch`.
    static let listed = ["demo.read_file", "demo.list_files", "demo.crm_lookup", "demo.send_email"]
    static let noEgressPolicy = "no-egress-after-restricted-read"

    static let calls: [Call] = [
        Call(tool: "demo.read_file", arguments: ["path": .string("public/readme.txt")], shown: "path=public/readme.txt", expectation: .allowed),
        Call(tool: "demo.crm_lookup", arguments: ["customer": .string("acme")], shown: "customer=acme", expectation: .allowed),
        Call(
            tool: "demo.http_fetch", arguments: ["url": .string("https://paste.example.net/upload")], shown: "url=https://paste.example.net/upload",
            expectation: .denied(reason: DenialReason.toolNotInGrant, policies: [])),
        Call(
            tool: "demo.send_email",
            arguments: ["to": .string("sales@example.com"), "subject": .string("Q3 pipeline"), "body": .string("Acme (gold): 420k in Q3.")],
            shown: "to=sales@example.com", expectation: .allowed),
        Call(tool: "demo.read_file", arguments: ["path": .string("secret/salaries.csv")], shown: "path=secret/salaries.csv", expectation: .allowed),
        Call(
            tool: "demo.send_email",
            arguments: ["to": .string("sales@example.com"), "subject": .string("Salaries"), "body": .string("alice 182000, bob 171000")],
            shown: "to=sales@example.com", expectation: .denied(reason: DenialReason.policyDenied, policies: [Self.noEgressPolicy])),
    ]

    let agent: DemoAgent
    let output: @Sendable (String) -> Void

    /// Runs every step. A step that fails outright (the server does not answer, no grant) ends
    /// the run; its failure is among the differences.
    func run() async -> Outcome {
        var outcome = Outcome()
        do {
            try await self.steps(&outcome)
        } catch {
            outcome.differences.append("the script stopped: \(error)")
        }
        return outcome
    }

    private func steps(_ outcome: inout Outcome) async throws {
        let svid: Redacted<String>
        do { svid = try await self.agent.fetchJWTSVID(audience: self.agent.issuer) } catch {
            self.line("✘", "identity", "no JWT-SVID from the Workload API: \(error)")
            throw DemoAgent.Failure(description: "no identity")
        }
        self.line("✔", "identity", "JWT-SVID for \(self.agent.spiffeID) from the Workload API (audience \(self.agent.issuer))")

        let endpoints = try await self.agent.discover()
        let grant: DemoAgent.Grant
        switch try await self.agent.requestGrant(at: endpoints.token, svid: svid, scope: Self.scope, intent: Self.intent) {
        case .failure(let failure):
            self.line("✘", "grant", "refused: \(failure.description)")
            throw DemoAgent.Failure(description: "no grant")
        case .success(let issued): grant = issued
        }
        outcome.taskID = grant.taskID
        self.line("✔", "grant", "task \(grant.taskID) for \"\(Self.intent)\"")
        self.continued("scope \(grant.scope)")
        self.continued("\(grant.expiresIn) s, DPoP-bound to key \(self.agent.keyThumbprint.prefix(12))…, audience latch-gateway")

        var id: Int64 = 0
        func nextID() -> Int64 {
            id += 1
            return id
        }

        let listing = try await self.agent.mcp("tools/list", id: nextID(), grant: grant)
        let names = listing.result?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        if listing.status == 200, Set(names) == Set(Self.listed) {
            self.line("✔", "tools/list", names.joined(separator: " ") + "  (demo.http_fetch is served, but not to this grant)")
        } else {
            self.line("✘", "tools/list", "HTTP \(listing.status): \(names.isEmpty ? "no tools" : names.joined(separator: " "))")
            self.differ(&outcome, "tools/list showed \(names), expected \(Self.listed)")
        }

        for call in Self.calls {
            outcome.calls.append(try await self.call(call, id: nextID(), grant: grant, outcome: &outcome))
        }

        let (status, body) = try await self.agent.complete(at: endpoints.completion, grant: grant)
        if status == 200, body?["status"]?.stringValue == "completed" {
            self.line("✔", "complete", "task \(grant.taskID) completed: its grant is revoked")
        } else {
            self.line("✘", "complete", "HTTP \(status)")
            self.differ(&outcome, "completing the task answered HTTP \(status), expected 200 completed")
        }

        let after = try await self.agent.mcp("tools/list", id: nextID(), grant: grant)
        let message = after.error?["message"]?.stringValue ?? ""
        if after.status == 401 {
            self.line("✘", "tools/list", "401 \(Self.challengeError(after.wwwAuthenticate) ?? "unauthorized"): \(message) (the grant is dead)")
        } else {
            self.line("✔", "tools/list", "HTTP \(after.status)")
            self.differ(&outcome, "the grant still worked after completion (HTTP \(after.status)), expected 401")
        }
    }

    /// One `tools/call`, with a fresh trace ID in `_meta.traceparent` so its record can be found.
    private func call(_ call: Call, id: Int64, grant: DemoAgent.Grant, outcome: inout Outcome) async throws -> Observed {
        let traceID = hexString((0..<16).map { _ in UInt8.random(in: .min ... .max) })
        let span = hexString((0..<8).map { _ in UInt8.random(in: .min ... .max) })
        let answer = try await self.agent.mcp(
            "tools/call",
            params: [
                "name": .string(call.tool), "arguments": .object(call.arguments),
                "_meta": .object(["traceparent": .string("00-\(traceID)-\(span)-01")]),
            ],
            id: id, grant: grant)
        var observed = Observed(call: call, traceID: traceID)
        let head = call.tool.padded(to: 16) + " " + call.shown.padded(to: 37) + " "
        if let result = answer.result, answer.status == 200 {
            observed.allowed = true
            let text = result["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
            var detail = "allowed  " + Self.excerpt(text)
            if let label = result["_meta"]?[MCPGateway.sensitivityMetaKey]?.stringValue { detail += "  [data: \(label)]" }
            if result["isError"] == .bool(true) { detail += "  (tool error)" }
            self.line("✔", head + detail)
        } else {
            let data = answer.error?["data"]
            observed.reason = data?["reason"]?.stringValue
            observed.policies = data?["policies"]?.arrayValue?.compactMap(\.stringValue) ?? []
            observed.decisionID = data?["decision_id"]?.stringValue
            let policies = observed.policies.isEmpty ? "" : "  [\(observed.policies.joined(separator: ", "))]"
            let reason = observed.reason ?? "HTTP \(answer.status) \(answer.error?["message"]?.stringValue ?? "")"
            self.line("✘", head + "denied   " + reason + policies)
        }
        let matches: Bool
        switch call.expectation {
        case .allowed: matches = observed.allowed
        case .denied(let reason, let policies):
            matches = !observed.allowed && observed.reason == reason && Set(policies).isSubset(of: observed.policies)
        }
        if !matches { self.differ(&outcome, "\(call.tool) \(call.shown): expected \(call.expectation)") }
        return observed
    }

    // MARK: Checking the records

    /// Checks the task's records against the calls. Each call has exactly one decision record
    /// (found by its trace ID; no decision is left over), for the right tool and agent, allowed or
    /// denied as scripted, with the reason and policies expected, and for a denial the decision ID
    /// the agent was given. A call that was allowed went upstream: its decision says `forwarded`
    /// and exactly one outcome record completes it (`ok`); a denied call has none. Returns what
    /// differs (nothing: verified).
    static func verify(records: [DecisionRecord], calls: [Observed], agent: String) -> [String] {
        var problems: [String] = []
        let decisions = records.filter { $0.decisionID == nil }
        let outcomes = records.filter { $0.decisionID != nil }
        if decisions.count != calls.count {
            problems.append("the store holds \(decisions.count) decisions for the task, expected \(calls.count) (one per call)")
        }
        let forwarded = calls.filter(\.call.expectation.allowed).count
        if outcomes.count != forwarded {
            problems.append("the store holds \(outcomes.count) outcome records for the task, expected \(forwarded) (one per forwarded call)")
        }
        for observed in calls {
            let call = observed.call
            let what = "\(call.tool) \(call.shown)"
            let found = decisions.filter { $0.traceID == observed.traceID }
            guard found.count == 1, let record = found.first else {
                problems.append("\(what): \(found.count) decisions carry its trace ID, expected 1")
                continue
            }
            if record.tool != call.tool { problems.append("\(what): its decision names the tool \(record.tool ?? "-")") }
            if record.agent != agent { problems.append("\(what): its decision names the agent \(record.agent)") }
            if record.allowed != call.expectation.allowed || record.reason != call.expectation.reason {
                problems.append("\(what): recorded \(record.allowed ? "allowed" : "denied \(record.reason ?? "-")"), expected \(call.expectation)")
            }
            if case .denied(_, let policies) = call.expectation, !Set(policies).isSubset(of: record.policies) {
                problems.append("\(what): recorded policies \(record.policies), expected \(policies)")
            }
            if let decisionID = observed.decisionID, decisionID != record.id {
                problems.append("\(what): the denial named decision \(decisionID), the record is \(record.id)")
            }
            let completions = outcomes.filter { $0.decisionID == record.id }
            if call.expectation.allowed {
                if record.upstreamOutcome != "forwarded" {
                    problems.append("\(what): its decision says upstream \(record.upstreamOutcome ?? "-"), expected forwarded")
                }
                if completions.count != 1 || completions.first?.upstreamOutcome != "ok" || completions.first?.traceID != observed.traceID {
                    problems.append("\(what): \(completions.count) outcome records complete its decision, expected one saying ok")
                }
            } else if !completions.isEmpty {
                problems.append("\(what): denied, yet \(completions.count) outcome records complete its decision")
            }
        }
        return problems
    }

    /// One line per call's decision, in call order, with the outcome of a forwarded call.
    static func recordLines(records: [DecisionRecord], calls: [Observed]) -> [String] {
        calls.compactMap { observed in
            guard let record = records.first(where: { $0.traceID == observed.traceID && $0.decisionID == nil }) else { return nil }
            let decision = record.allowed ? "allowed" : "denied "
            let why =
                record.allowed
                ? "by " + record.policies.joined(separator: ", ")
                : (record.reason ?? "-") + (record.policies.isEmpty ? "" : " by " + record.policies.joined(separator: ", "))
            let outcome = records.first { $0.decisionID == record.id }.map { "upstream \($0.upstreamOutcome ?? "-")" } ?? "not forwarded"
            return
                "\(decision)  \((record.tool ?? "-").padded(to: 16)) \(why.padded(to: 49)) \(outcome.padded(to: 14)) decision \(record.id.prefix(12))…"
        }
    }

    // MARK: Output

    private func line(_ mark: String, _ step: String, _ text: String) { self.output("  \(mark) \(step.padded(to: 11)) \(text)") }
    private func line(_ mark: String, _ text: String) { self.output("  \(mark) \(text)") }
    private func continued(_ text: String) { self.output("    \("".padded(to: 11)) \(text)") }

    private func differ(_ outcome: inout Outcome, _ difference: String) {
        outcome.differences.append(difference)
        self.output("      ↳ not as scripted: \(difference)")
    }

    /// The first line of a result's text, at most 48 characters, quoted.
    static func excerpt(_ text: String) -> String {
        let first = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        let clean = String(first.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        return "\"" + (clean.count > 48 ? clean.prefix(47) + "…" : clean) + "\""
    }

    /// The `error` of a `WWW-Authenticate: DPoP …` challenge.
    static func challengeError(_ challenge: String?) -> String? {
        guard let challenge, let start = challenge.firstRange(of: "error=\"") else { return nil }
        let rest = challenge[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension String {
    /// Padded with spaces to at least `width` characters.
    func padded(to width: Int) -> String { self.count >= width ? self : self + String(repeating: " ", count: width - self.count) }
}
