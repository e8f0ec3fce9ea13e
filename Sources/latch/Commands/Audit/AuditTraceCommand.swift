import ArgumentParser
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchServer

/// `latch audit trace TASK [--json]`
struct AuditTraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Tell the whole story of a task, in time order: grants and delegations, every call and its decision, the end.",
        discussion: """
            One line per event: each grant issued (root or delegated: holder, actor chain, scope, lifetime), each call \
            (method and tool, prompt and argument digests, allowed or denied with the reason, the determining policies \
            and the guard's verdicts (policies guard/<id>), then what the upstream answered), each revocation (revoked, \
            completed or killed; a grant that ran out says expired) and the task's end. With --json, {task, grants, \
            delegation_tree, events}.
            """
    )

    @OptionGroup var server: ServerOptions
    @Argument(help: "The task ID.") var task: String
    @Flag(help: "Print the story as one JSON object.") var json = false

    func run() async throws {
        let taskID = self.task
        let now = SystemWallClock().now().milliseconds
        let story: TaskStory? = try await self.server.withStore { store in try await TaskStory.load(taskID: taskID, store: store, now: now) }
        guard let story else {
            PolicyCommand.writeError("error: no task \(AuditOutput.printable(taskID)) (no grant and no decision record names it)")
            throw ExitCode(1)
        }
        if self.json {
            print(story.json.serialized)
        } else {
            print(story.text, terminator: "")
        }
    }
}

/// What `latch audit trace` tells: a task's grants, revocations and calls, read from the store.
struct TaskStory: Sendable {
    /// One call: its decision record and, when it was forwarded and answered, its outcome record.
    struct Call: Sendable {
        var decision: IndexedDecisionRecord
        var outcome: IndexedDecisionRecord?
    }

    enum Event: Sendable {
        case grant(TaskGrant)
        case call(Call)
        /// An outcome record whose decision record is not in the task (shown alone).
        case outcome(IndexedDecisionRecord)
        case revocation(GrantRevocation)
        case expiry(TaskGrant)

        var time: Int64 {
            switch self {
            case .grant(let grant): grant.issuedAt
            case .call(let call): call.decision.record.time
            case .outcome(let record): record.record.time
            case .revocation(let revocation): revocation.revokedAt
            case .expiry(let grant): grant.expiresAt
            }
        }

        /// Among events of the same millisecond: grants, then calls, then ends.
        var rank: Int {
            switch self {
            case .grant: 0
            case .call, .outcome: 1
            case .revocation, .expiry: 2
            }
        }
    }

    var taskID: String
    var task: GrantTask?
    var grants: [(TaskGrant, String)]
    var events: [Event]

    static let pageSize = 500

    static func load(taskID: String, store: any LatchStore, now: Int64) async throws -> TaskStory? {
        let task = try await store.task(id: taskID)
        let grants = try await store.grants(taskID: taskID).sorted { ($0.depth, $0.issuedAt, $0.id) < ($1.depth, $1.issuedAt, $1.id) }
        var events: [Event] = grants.map(Event.grant)
        for grant in grants {
            if let revocation = try await store.revocation(grantID: grant.id) {
                events.append(.revocation(revocation))
            } else if grant.expiresAt <= now {
                events.append(.expiry(grant))
            }
        }
        // The task's records, oldest first, a page at a time; outcomes join their decisions.
        var calls: [Call] = []
        var position: [String: Int] = [:]
        var orphans: [IndexedDecisionRecord] = []
        var query = DecisionRecordQuery(taskID: taskID, order: .oldestFirst, limit: Self.pageSize)
        while true {
            let page = try await store.decisionRecords(matching: query)
            for indexed in page {
                if let decisionID = indexed.record.decisionID {
                    if let at = position[decisionID], calls[at].outcome == nil { calls[at].outcome = indexed } else { orphans.append(indexed) }
                } else {
                    position[indexed.record.id] = calls.count
                    calls.append(Call(decision: indexed))
                }
            }
            guard let last = page.last, page.count == Self.pageSize else { break }
            query.after = DecisionRecordQuery.Cursor(after: last.record)
        }
        guard task != nil || !grants.isEmpty || !calls.isEmpty || !orphans.isEmpty else { return nil }
        events += calls.map(Event.call) + orphans.map(Event.outcome)
        // Stable: equal times keep the order above (grants by depth, calls oldest first).
        let ordered = events.enumerated().sorted { a, b in
            (a.element.time, a.element.rank, a.offset) < (b.element.time, b.element.rank, b.offset)
        }.map(\.element)
        let statuses = try await GrantOutput.withStatus(grants, store: store, now: now)
        return TaskStory(taskID: taskID, task: task, grants: statuses, events: ordered)
    }

    // MARK: Text

    var text: String {
        var lines: [String] = []
        if let task = self.task {
            var head =
                "task \(task.taskID)  subject \(task.subject)  intent \(Self.quoted(task.intent))  expires \(AuditOutput.iso8601(milliseconds: task.expiresAt))"
            if let ended = task.endedAt, let reason = task.endReason {
                head += "  ended \(reason.rawValue) \(AuditOutput.iso8601(milliseconds: ended))"
            }
            lines.append(head)
        } else {
            lines.append("task \(self.taskID)  (no grant stored: only its decision records)")
        }
        for event in self.events {
            lines.append(AuditOutput.iso8601(milliseconds: event.time) + "  " + Self.describe(event))
        }
        return lines.map { AuditOutput.printable($0) + "\n" }.joined()
    }

    static func describe(_ event: Event) -> String {
        switch event {
        case .grant(let grant):
            let kind = grant.parentID.map { "delegated from \($0)" } ?? "root"
            let chain = grant.actors.isEmpty ? "" : "  actors \(grant.actors.map(\.description).joined(separator: " <- "))"
            return "grant \(grant.id) (\(kind), depth \(grant.depth)) to \(grant.holder)\(chain)  scope \(Self.scope(grant.scope))"
                + "  expires \(AuditOutput.iso8601(milliseconds: grant.expiresAt))"
        case .call(let call):
            var line = "call " + Self.describe(call.decision.record)
            if let outcome = call.outcome {
                line += "  -> upstream \(outcome.record.upstreamOutcome ?? "-") after \(outcome.record.latencyMicros) us"
            } else if call.decision.record.upstreamOutcome == "forwarded" {
                line += "  -> upstream (no outcome recorded)"
            }
            return line
        case .outcome(let outcome):
            return "outcome \(outcome.record.id) of decision \(outcome.record.decisionID ?? "-"): upstream \(outcome.record.upstreamOutcome ?? "-")"
        case .revocation(let revocation):
            return "grant \(revocation.grantID) \(revocation.reason.rawValue) (and every grant delegated from it)"
        case .expiry(let grant):
            return "grant \(grant.id) expired"
        }
    }

    /// `tools/call mail.send by AGENT  prompt hmac ab12…  args hmac cd34…  denied policy_denied  policies p1, p2  guard guard/x  trace T  [decision ID, ledger N]`
    static func describe(_ record: DecisionRecord) -> String {
        if record.method == ApprovalDecisions.recordMethod {
            // `approval ID of mail.send approved by operator:alice  [record ID]`
            let verdict = record.allowed ? "approved" : "denied"
            return "approval \(record.approvalID ?? "-") of \(record.tool ?? "-") \(verdict) by \(record.subject)  [\(record.id)]"
        }
        var parts = ["\(record.method)\(record.tool.map { " " + $0 } ?? "") by \(record.agent)"]
        for (label, digest) in [("prompt", record.promptHMAC), ("args", record.argumentsHMAC)] {
            if let digest { parts.append("\(label) hmac \(digest.prefix(16))") }
        }
        parts.append(record.allowed ? "allowed" : "denied \(record.reason ?? "-")")
        let guardVerdicts = record.policies.filter { $0.hasPrefix("guard/") }
        let policies = record.policies.filter { !$0.hasPrefix("guard/") }
        if !policies.isEmpty { parts.append("policies \(policies.joined(separator: ", "))") }
        if !guardVerdicts.isEmpty { parts.append("guard \(guardVerdicts.joined(separator: ", "))") }
        if !record.policyErrors.isEmpty { parts.append("policy errors \(record.policyErrors.count)") }
        if let trace = record.traceID { parts.append("trace \(trace)") }
        parts.append("[\(record.id)]")
        return parts.joined(separator: "  ")
    }

    static func scope(_ scope: GrantScope) -> String {
        func list(_ values: Set<String>) -> String { "[" + values.sorted().joined(separator: ",") + "]" }
        return
            "tools=\(list(scope.tools)) data=\(list(scope.dataDomains)) destinations=\(list(scope.destinations)) max=\(scope.maxSensitivity.rawValue)"
    }

    static func quoted(_ text: String) -> String {
        "\"" + text + "\""
    }

    // MARK: JSON

    var json: JSONValue {
        let events: [JSONValue] = self.events.map { event in
            var object: [String: JSONValue] = ["time": .int(event.time)]
            switch event {
            case .grant(let grant):
                object["kind"] = .string(grant.parentID == nil ? "grant" : "delegation")
                object["grant_id"] = .string(grant.id)
                object["parent_id"] = grant.parentID.map(JSONValue.string) ?? .null
                object["holder"] = .string(grant.holder.description)
                object["actors"] = .array(grant.actors.map { .string($0.description) })
                object["depth"] = .int(Int64(grant.depth))
                object["scope"] = grant.claims(issuer: "")["latch_scope"] ?? .null
                object["expires_at"] = .int(grant.expiresAt)
            case .call(let call):
                object["kind"] = .string("call")
                object["decision"] = AuditOutput.json(call.decision)
                object["guard"] = .array(call.decision.record.policies.filter { $0.hasPrefix("guard/") }.map(JSONValue.string))
                object["outcome"] = call.outcome.map(AuditOutput.json) ?? .null
            case .outcome(let outcome):
                object["kind"] = .string("outcome")
                object["outcome"] = AuditOutput.json(outcome)
            case .revocation(let revocation):
                object["kind"] = .string("revocation")
                object["grant_id"] = .string(revocation.grantID)
                object["reason"] = .string(revocation.reason.rawValue)
            case .expiry(let grant):
                object["kind"] = .string("expiry")
                object["grant_id"] = .string(grant.id)
                object["reason"] = .string("expired")
            }
            return .object(object)
        }
        return .object([
            "task": self.task.map(GrantOutput.json) ?? .null,
            "grants": .array(self.grants.map { GrantOutput.json($0.0, status: $0.1) }),
            "delegation_tree": GrantOutput.tree(self.grants),
            "events": .array(events),
        ])
    }
}
