import Testing

@testable import LatchGuard

@Suite("GuardRules")
struct GuardRulesTests {
    static let restricted = GuardLabels(sensitivity: 3)
    static let external = GuardLabels(sensitivity: 0, egress: .external, sideEffects: .write)

    /// Histories for one agent's tasks, and the rules: decide, then record, call after call.
    struct Session {
        let rules: GuardRules
        var tasks: [String: GuardHistory] = [:]
        var agents: [String: GuardHistory] = [:]

        init(_ rules: [GuardRule]) throws {
            self.rules = try GuardRules(rules)
        }

        /// Decides the call; records it as allowed unless the guard (or `denied`) says otherwise.
        mutating func call(
            _ tool: String, at time: Int64, task: String = "t1", agent: String = "a1", labels: GuardLabels = GuardLabels(),
            result: GuardLabels? = nil, denied: Bool = false, argumentSources: TaintSources = [], amounts: [String: Double] = [:]
        ) -> GuardVerdict {
            let call = GuardCall(agent: agent, task: task, tool: tool, labels: labels, time: time, argumentSources: argumentSources, amounts: amounts)
            var taskHistory = self.tasks[task] ?? self.rules.makeHistory()
            var agentHistory = self.agents[agent] ?? self.rules.makeHistory()
            let verdict = self.rules.evaluate(call, task: taskHistory, agent: agentHistory)
            let allowed = !denied && (verdict.action == nil || verdict.action == .hold)
            self.rules.record(
                GuardEvent(call: call, allowed: allowed, result: allowed ? (result ?? labels) : nil, fired: verdict.rules), task: &taskHistory,
                agent: &agentHistory)
            self.tasks[task] = taskHistory
            self.agents[agent] = agentHistory
            return verdict
        }
    }

    static func pattern(_ text: String) -> ToolPattern {
        (try? ToolPattern(parsing: text)) ?? { fatalError("bad test pattern \(text)") }()
    }

    @Test("a rate rule refuses the call past its limit within the window, and counts again once the window has moved on")
    func rate() throws {
        var session = try Session([
            GuardRule(id: "mail-rate", kind: .rate(limit: 3, window: 10_000), match: GuardMatch(tools: [Self.pattern("mail.*")]), action: .deny, reason: "rate_limit")
        ])
        #expect(session.call("mail.send", at: 0).action == nil)
        #expect(session.call("files.read", at: 500).action == nil, "other tools are not counted")
        #expect(session.call("mail.send", at: 1_000).action == nil)
        #expect(session.call("mail.read", at: 2_000).action == nil)
        let refused = session.call("mail.send", at: 3_000)
        #expect(refused.action == .deny && refused.reason == "rate_limit" && refused.rules == ["mail-rate"])
        #expect(session.call("files.read", at: 3_500).action == nil, "only matching calls are refused")
        // Attempts count, refused or not: at 9 000 the window holds 0, 1 000, 2 000 and 3 000.
        #expect(session.call("mail.send", at: 9_000).action == .deny)
        // At 12 500 it holds 3 000 and 9 000; at 12 600 also 12 500.
        #expect(session.call("mail.send", at: 12_500).action == nil)
        #expect(session.call("mail.send", at: 12_600).action == .deny)
    }

    @Test("a per-agent rule counts the agent's calls across its tasks; a per-task rule does not")
    func scopes() throws {
        var session = try Session([
            GuardRule(id: "agent-burst", kind: .rate(limit: 2, window: 60_000), scope: .agent, action: .hold, reason: "agent_burst"),
            GuardRule(id: "task-burst", kind: .rate(limit: 2, window: 60_000), scope: .task, action: .deny, reason: "task_burst"),
        ])
        #expect(session.call("x.y", at: 0, task: "t1").action == nil)
        #expect(session.call("x.y", at: 1, task: "t2").action == nil)
        let third = session.call("x.y", at: 2, task: "t3")
        #expect(third.action == .hold && third.rules == ["agent-burst"])
        #expect(session.call("x.y", at: 3, task: "t9", agent: "other").action == nil, "another agent has its own history")
    }

    @Test("a denial streak fires after that many denials in a row; an allowed call resets it")
    func denialStreak() throws {
        var session = try Session([GuardRule(id: "streak", kind: .denialStreak(limit: 3), action: .kill, reason: "denial_streak")])
        for time in 0..<2 { #expect(session.call("x.y", at: Int64(time), denied: true).action == nil) }
        #expect(session.call("x.y", at: 2).action == nil, "allowed: the streak starts over")
        for time in 3..<6 { #expect(session.call("x.y", at: Int64(time), denied: true).action == nil) }
        #expect(session.call("x.y", at: 6).action == .kill)
    }

    @Test("a streak that made its rule fire is used up: a deny rule acts once per streak, never for ever")
    func streakUsedUp() throws {
        var session = try Session([GuardRule(id: "streak", kind: .denialStreak(limit: 2), action: .deny, reason: "denial_streak")])
        #expect(session.call("x.y", at: 0, denied: true).action == nil)
        #expect(session.call("x.y", at: 1, denied: true).action == nil)
        #expect(session.call("x.y", at: 2).action == .deny, "two denials in a row: the next call is refused")
        #expect(session.call("x.y", at: 3).action == nil, "and the count starts over")
    }

    @Test("a sequence fires on egress after a restricted read within its window; not before the read, not after the window, not for a denied read")
    func sequence() throws {
        var session = try Session([
            GuardRule(
                id: "exfil", kind: .sequence(after: GuardMatch(minSensitivity: 3, allowed: true), within: 600_000),
                match: GuardMatch(minEgress: .external), action: .kill, reason: "chain_anomaly")
        ])
        #expect(session.call("mail.send", at: 0, labels: Self.external).action == nil, "egress before any restricted read")
        #expect(session.call("files.read", at: 1_000, labels: Self.restricted, denied: true).action == nil)
        #expect(session.call("mail.send", at: 2_000, labels: Self.external).action == nil, "the restricted read was denied: nothing was read")
        // A tool labelled internal whose result is labelled restricted: the result counts.
        #expect(session.call("files.read", at: 3_000, result: Self.restricted).action == nil)
        #expect(session.call("files.list", at: 4_000).action == nil, "only egress is refused")
        let verdict = session.call("mail.send", at: 5_000, labels: Self.external)
        #expect(verdict.action == .kill && verdict.reason == "chain_anomaly")
        #expect(session.call("mail.send", at: 603_001, labels: Self.external).action == nil, "the read is older than the window")
        #expect(session.call("mail.send", at: 0, task: "t2", labels: Self.external).action == nil, "another task read nothing")
    }

    @Test("a sequence without a window holds for the rest of the task")
    func since() throws {
        var session = try Session([
            GuardRule(
                id: "untrusted-then-privileged", kind: .sequence(after: GuardMatch(untrusted: true), within: nil),
                match: GuardMatch(minSideEffects: .destructive), action: .hold, reason: "untrusted_then_privileged")
        ])
        #expect(session.call("db.drop", at: 0, labels: GuardLabels(sideEffects: .destructive)).action == nil)
        #expect(session.call("web.fetch", at: 1, result: GuardLabels(untrusted: true)).action == nil)
        #expect(session.call("db.drop", at: 86_400_000, labels: GuardLabels(sideEffects: .destructive)).action == .hold)
    }

    @Test("novelty fires for a tool the agent was never allowed to use")
    func novelty() throws {
        var session = try Session([GuardRule(id: "new-tool", kind: .novelty, scope: .agent, action: .hold, reason: "novel_tool")])
        #expect(session.call("files.read", at: 0).action == .hold)
        #expect(session.call("files.read", at: 1, task: "t2").action == nil, "used (allowed) before, in any task")
        #expect(session.call("mail.send", at: 2, denied: true).action == .hold)
        #expect(session.call("mail.send", at: 3).action == .hold, "a denied use does not make the tool familiar")
        #expect(session.call("files.read", at: 4, agent: "a2").action == .hold, "another agent")
    }

    @Test("a tainted-argument rule fires for the sources it names")
    func taintedArgument() throws {
        var session = try Session([
            GuardRule(
                id: "untrusted-payee", kind: .taintedArgument(sources: .untrusted), match: GuardMatch(tools: [Self.pattern("bank.send_money")]),
                action: .hold, reason: "tainted_control_argument")
        ])
        #expect(session.call("bank.send_money", at: 0, argumentSources: .sensitive).action == nil)
        #expect(session.call("bank.send_money", at: 1, argumentSources: [.untrusted, .sensitive]).action == .hold)
        #expect(session.call("bank.read_file", at: 2, argumentSources: .untrusted).action == nil)
    }

    @Test("the strongest action wins (kill, deny, hold) and every rule that fired is named")
    func strongest() throws {
        var session = try Session([
            GuardRule(id: "h", kind: .novelty, scope: .agent, action: .hold, reason: "novel"),
            GuardRule(id: "k", kind: .taintedArgument(sources: .sensitive), action: .kill, reason: "killed"),
            GuardRule(id: "d", kind: .rate(limit: 1, window: 1_000), action: .deny, reason: "rate"),
        ])
        #expect(session.call("x.y", at: 0).rules == ["h"])
        let verdict = session.call("x.z", at: 1, argumentSources: .sensitive)
        #expect(verdict.action == .kill && verdict.reason == "killed" && verdict.rules == ["h", "k", "d"])
    }

    @Test(
        "malformed rules are refused",
        arguments: [
            [GuardRule(id: "", kind: .novelty, scope: .agent, action: .hold, reason: "r")],
            [GuardRule(id: "a", kind: .novelty, scope: .agent, action: .hold, reason: "r"), GuardRule(id: "a", kind: .novelty, scope: .agent, action: .hold, reason: "r")],
            [GuardRule(id: "a", kind: .novelty, scope: .task, action: .hold, reason: "r")],
            [GuardRule(id: "a", kind: .novelty, scope: .agent, action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .rate(limit: 1, window: GuardRules.maxWindow + 1), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .rate(limit: 0, window: 1), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .rate(limit: 1, window: 0), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .denialStreak(limit: 0), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .sequence(after: GuardMatch(), within: -1), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .taintedArgument(sources: []), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .taintedArgument(sources: .untrusted), scope: .agent, action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .novelty, scope: .agent, action: .hold, reason: "")],
            [GuardRule(id: "a", kind: .budget(argument: "", limit: 10), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .budget(argument: "amount", limit: -1), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .budget(argument: "amount", limit: .infinity), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .delegations(limit: -1), action: .deny, reason: "r")],
            [GuardRule(id: "a", kind: .delegations(limit: 3), action: .hold, reason: "r")],
            [GuardRule(id: "a", kind: .delegationDepth(limit: 2), match: GuardMatch(tools: [Self.pattern("mail.*")]), action: .deny, reason: "r")],
        ])
    func malformed(_ rules: [GuardRule]) {
        #expect(throws: GuardError.self) { try GuardRules(rules) }
    }

    @Test(
        "tool patterns: exact, prefix*, *suffix, *",
        arguments: [
            ("mail.send", "mail.send", true), ("mail.send", "mail.sender", false), ("mail.*", "mail.send", true), ("mail.*", "files.read", false),
            ("*.send", "mail.send", true), ("*.send", "mail.resend", false), ("*send", "mail.resend", true), ("*.send", "mail.sender", false), ("*", "anything", true),
        ])
    func patterns(_ pattern: String, _ tool: String, _ matches: Bool) throws {
        #expect(try ToolPattern(parsing: pattern).matches(tool) == matches)
        #expect(try ToolPattern(parsing: pattern).description == pattern)
    }

    @Test("malformed tool patterns are refused", arguments: ["", "a*b", "**", "*a*"])
    func badPatterns(_ pattern: String) {
        #expect(throws: GuardError.self) { try ToolPattern(parsing: pattern) }
    }

    @Test("a budget counts the argument over allowed matching calls; the call that would pass the limit fires; one it cannot count fires")
    func budget() throws {
        var session = try Session([
            GuardRule(
                id: "spend", kind: .budget(argument: "amount", limit: 1_000), match: GuardMatch(tools: [Self.pattern("pay.*")]), action: .deny,
                reason: "budget_exceeded")
        ])
        #expect(session.call("pay.transfer", at: 0, amounts: ["amount": 400]).action == nil)
        #expect(session.call("pay.transfer", at: 1, amounts: ["amount": 400]).action == nil)
        #expect(session.call("mail.send", at: 2, amounts: ["amount": 900]).action == nil, "other tools neither fire nor count")
        let over = session.call("pay.transfer", at: 3, amounts: ["amount": 400])
        #expect(over.action == .deny && over.reason == "budget_exceeded" && over.rules == ["spend"])
        #expect(session.call("pay.transfer", at: 4, amounts: ["amount": 200]).action == nil, "a refused call spent nothing: 800 + 200 fits")
        #expect(session.call("pay.transfer", at: 5, amounts: ["amount": 0.5]).action == .deny, "the budget is spent")
        #expect(session.call("pay.transfer", at: 6, task: "t2", amounts: ["amount": 1_000]).action == nil, "per task")
        #expect(session.call("pay.transfer", at: 7, task: "t3").action == .deny, "no amount: cannot be counted")
        #expect(session.call("pay.transfer", at: 8, task: "t3", amounts: ["amount": -50]).action == .deny, "a negative amount gives nothing back")
        #expect(session.call("pay.transfer", at: 9, task: "t3", amounts: ["amount": 1_000]).action == nil, "refused calls counted nothing")
        #expect(session.call("pay.transfer", at: 10, task: "t3", amounts: ["amount": 0]).action == nil, "exactly the limit is within it")
        #expect(session.call("pay.transfer", at: 11, task: "t3", amounts: ["amount": 0.01]).action == .deny)
    }

    @Test("delegation rules: fan-out counts the delegations that went through, per task or per agent; depth bounds each; calls never fire them")
    func delegations() throws {
        let rules = try GuardRules([
            GuardRule(id: "fanout", kind: .delegations(limit: 2), action: .deny, reason: "fanout_cap"),
            GuardRule(id: "agent-fanout", kind: .delegations(limit: 3), scope: .agent, action: .kill, reason: "fanout_cap"),
            GuardRule(id: "deep", kind: .delegationDepth(limit: 2), action: .deny, reason: "depth_exceeded"),
        ])
        #expect(rules.screensDelegations && rules.budgetArguments.isEmpty)
        var first = rules.makeHistory()
        var second = rules.makeHistory()
        var agent = rules.makeHistory()
        for _ in 0..<2 {
            #expect(rules.evaluateDelegation(depth: 1, task: first, agent: agent) == .none)
            rules.recordDelegation(task: &first, agent: &agent)
        }
        let third = rules.evaluateDelegation(depth: 1, task: first, agent: agent)
        #expect(third.action == .deny && third.reason == "fanout_cap" && third.rules == ["fanout"])
        #expect(rules.evaluateDelegation(depth: 2, task: second, agent: agent) == .none, "another task of the agent: its own count")
        rules.recordDelegation(task: &second, agent: &agent)
        let fourth = rules.evaluateDelegation(depth: 1, task: second, agent: agent)
        #expect(fourth.action == .kill && fourth.rules == ["agent-fanout"], "the agent's fourth across its tasks")
        let deep = rules.evaluateDelegation(depth: 3, task: rules.makeHistory(), agent: rules.makeHistory())
        #expect(deep.action == .deny && deep.reason == "depth_exceeded")
        #expect(rules.evaluate(GuardCall(agent: "a", task: "t", tool: "x", labels: GuardLabels(), time: 0), task: first, agent: agent) == .none)
    }

    @Test("a history stays the same size however many calls it records")
    func bounded() throws {
        let rules = try GuardRules([
            GuardRule(id: "r", kind: .rate(limit: 5, window: 1_000), action: .deny, reason: "r"),
            GuardRule(id: "n", kind: .novelty, scope: .agent, action: .hold, reason: "n"),
        ], maxToolsPerAgent: 10)
        var task = rules.makeHistory()
        var agent = rules.makeHistory()
        for index in 0..<10_000 {
            let call = GuardCall(agent: "a", task: "t", tool: "tool\(index)", labels: GuardLabels(), time: Int64(index))
            rules.record(GuardEvent(call: call, allowed: true), task: &task, agent: &agent)
        }
        #expect(task.events == 10_000 && agent.toolsUsed.count == 10 && task.rings[0].count(since: -1) == 5)
    }
}
