/// A checked set of guard rules: decides each call against its task's and agent's histories,
/// then folds what happened into them.
///
/// Every rule reads a bounded summary its scope keeps (the last `limit` times of a rate rule,
/// the last time a sequence's first step happened, a denial counter, the tools used), so a
/// decision costs the same after ten calls or ten thousand: one pass over the rules.
public struct GuardRules: Sendable {
    public let rules: [GuardRule]
    /// Most tools remembered per agent for ``GuardRule/Kind/novelty`` (later ones stay novel).
    public let maxToolsPerAgent: Int
    /// The arguments budget rules count: the gateway reads their numeric values into ``GuardCall/amounts``.
    public let budgetArguments: Set<String>
    /// Whether any rule is about delegations.
    public let screensDelegations: Bool

    /// The longest window a rule may have (366 days).
    public static let maxWindow: Int64 = 366 * 86_400_000

    /// Checks the rules: unique non-empty IDs and reasons, positive limits and windows of at
    /// most ``maxWindow``, novelty only per agent and only to hold (a tool becomes familiar by
    /// being allowed, so denying novelty would deny a new tool forever), tainted arguments only
    /// per task.
    public init(_ rules: [GuardRule], maxToolsPerAgent: Int = 4096) throws(GuardError) {
        var ids = Set<String>()
        for rule in rules {
            guard !rule.id.isEmpty, ids.insert(rule.id).inserted else { throw GuardError("guard rule IDs must be non-empty and unique (\"\(rule.id)\")") }
            guard !rule.reason.isEmpty else { throw GuardError("guard rule \(rule.id) needs a reason code") }
            switch rule.kind {
            case .rate(let limit, let window):
                guard limit > 0, limit <= 100_000, window > 0, window <= Self.maxWindow else {
                    throw GuardError("guard rule \(rule.id): a rate needs a limit from 1 to 100000 and a window from 1 ms to 366 days")
                }
            case .denialStreak(let limit):
                guard limit > 0 else { throw GuardError("guard rule \(rule.id): a denial streak needs a positive limit") }
            case .sequence(_, let within):
                guard within.map({ $0 > 0 && $0 <= Self.maxWindow }) ?? true else {
                    throw GuardError("guard rule \(rule.id): a sequence's window must be from 1 ms to 366 days")
                }
            case .novelty:
                guard rule.scope == .agent, rule.action == .hold else {
                    throw GuardError("guard rule \(rule.id): novelty is per agent (scope: agent) and holds (action: hold)")
                }
            case .taintedArgument(let sources):
                guard rule.scope == .task, !sources.isEmpty else {
                    throw GuardError("guard rule \(rule.id): tainted arguments are per task and need untrusted and/or sensitive sources")
                }
            case .budget(let argument, let limit):
                guard !argument.isEmpty, limit.isFinite, limit >= 0 else {
                    throw GuardError("guard rule \(rule.id): a budget needs an argument name and a limit of at least 0")
                }
            case .delegations(let limit), .delegationDepth(let limit):
                guard limit >= 0, limit <= 100_000 else { throw GuardError("guard rule \(rule.id): a delegation limit must be from 0 to 100000") }
                guard rule.action != .hold else {
                    throw GuardError("guard rule \(rule.id): a delegation rule denies or kills (a token exchange cannot wait for approval)")
                }
                guard rule.match == GuardMatch() else {
                    throw GuardError("guard rule \(rule.id): a delegation rule is about token exchanges: it takes no tools or labels")
                }
            }
        }
        self.rules = rules
        self.budgetArguments = Set(rules.compactMap { if case .budget(let argument, _) = $0.kind { argument } else { nil } })
        self.screensDelegations = rules.contains { $0.kind.isDelegation }
        self.maxToolsPerAgent = max(1, maxToolsPerAgent)
    }

    /// An empty history for a task or an agent.
    public func makeHistory() -> GuardHistory {
        GuardHistory(rules: self.rules)
    }

    /// The verdict on `call`: the strongest action of the rules that fire (kill over deny over
    /// hold), naming every rule that fired; ``GuardVerdict/none`` when none does.
    public func evaluate(_ call: GuardCall, task: GuardHistory, agent: GuardHistory) -> GuardVerdict {
        var verdict = GuardVerdict.none
        for (index, rule) in self.rules.enumerated()
        where !rule.kind.isDelegation && rule.match.matches(tool: call.tool, labels: call.labels, allowed: nil) {
            let history = rule.scope == .task ? task : agent
            guard Self.fires(rule, index: index, call: call, history: history) else { continue }
            verdict.add(rule)
        }
        return verdict
    }

    /// The verdict on handing a grant on, `depth` below its task's root, from the delegator's
    /// task and agent histories: the strongest action of the delegation rules that fire.
    public func evaluateDelegation(depth: Int, task: GuardHistory, agent: GuardHistory) -> GuardVerdict {
        var verdict = GuardVerdict.none
        for rule in self.rules {
            let history = rule.scope == .task ? task : agent
            switch rule.kind {
            case .delegations(let limit) where history.delegations >= limit: verdict.add(rule)
            case .delegationDepth(let limit) where depth > limit: verdict.add(rule)
            default: continue
            }
        }
        return verdict
    }

    /// Counts a delegation that went through.
    public func recordDelegation(task: inout GuardHistory, agent: inout GuardHistory) {
        task.delegations += 1
        agent.delegations += 1
    }

    /// Folds a decided call into its task's and agent's histories.
    public func record(_ event: GuardEvent, task: inout GuardHistory, agent: inout GuardHistory) {
        task.record(event, rules: self.rules, scope: .task, maxTools: self.maxToolsPerAgent)
        agent.record(event, rules: self.rules, scope: .agent, maxTools: self.maxToolsPerAgent)
    }

    /// Folds in what an allowed call returned, once it has: its result's labels (higher than the
    /// tool's, or untrusted content) start the sequences they match. ``record(_:task:agent:)``
    /// already counted the call, with the tool's labels, when it was decided.
    public func recordResult(of call: GuardCall, labels: GuardLabels, task: inout GuardHistory, agent: inout GuardHistory) {
        task.recordResult(of: call, labels: labels, rules: self.rules, scope: .task)
        agent.recordResult(of: call, labels: labels, rules: self.rules, scope: .agent)
    }

    /// `time - window`, or the earliest time when that would overflow.
    static func start(_ time: Int64, _ window: Int64) -> Int64 {
        let (start, overflow) = time.subtractingReportingOverflow(window)
        return overflow ? .min : start
    }

    private static func fires(_ rule: GuardRule, index: Int, call: GuardCall, history: GuardHistory) -> Bool {
        switch rule.kind {
        case .rate(_, let window):
            return history.rings[index].isFull(since: Self.start(call.time, window))
        case .denialStreak(let limit):
            return history.denialStreak >= limit
        case .sequence(_, let within):
            let seen = history.lastSeen[index]
            return seen != GuardHistory.never && (within.map { seen > Self.start(call.time, $0) } ?? true)
        case .novelty:
            return !history.toolsUsed.contains(call.tool)
        case .taintedArgument(let sources):
            return !call.argumentSources.isDisjoint(with: sources)
        case .budget(let argument, let limit):
            // A call that cannot be counted (no amount, or a negative one that would give
            // budget back) fires: the budget is never guessed.
            guard let amount = call.amounts[argument], amount.isFinite, amount >= 0 else { return true }
            return history.spent[index] + amount > limit
        case .delegations, .delegationDepth:
            return false
        }
    }
}

/// What a task or an agent did, as far as the rules need: per rate rule the times of its last
/// `limit` matching calls, per sequence rule the last time its first step happened, the current
/// run of denials, the tools used (per agent). Bounded by the rules, not by the calls.
public struct GuardHistory: Sendable {
    static let never = Int64.min

    var rings: [TimeRing]
    var lastSeen: [Int64]
    var denialStreak = 0
    var toolsUsed = Set<String>()
    /// Per budget rule, the sum counted so far (0 for other rules).
    var spent: [Double]
    /// Grants handed on in this scope.
    var delegations = 0
    /// Calls recorded.
    public private(set) var events = 0

    init(rules: [GuardRule]) {
        self.rings = rules.map { rule in
            if case .rate(let limit, _) = rule.kind { return TimeRing(capacity: limit) }
            return TimeRing(capacity: 0)
        }
        self.lastSeen = Array(repeating: Self.never, count: rules.count)
        self.spent = Array(repeating: 0, count: rules.count)
    }

    mutating func record(_ event: GuardEvent, rules: [GuardRule], scope: GuardRule.Scope, maxTools: Int) {
        self.events += 1
        // A streak that made a rule fire is used up: the rule acts once per `limit` denials in a
        // row (its own denial would otherwise feed the streak, and a `deny` last for ever).
        let streakFired = rules.contains { rule in
            guard rule.scope == scope, case .denialStreak = rule.kind else { return false }
            return event.fired.contains(rule.id)
        }
        self.denialStreak = event.allowed || streakFired ? 0 : self.denialStreak + 1
        if scope == .agent, event.allowed, self.toolsUsed.count < maxTools { self.toolsUsed.insert(event.call.tool) }
        let labels = event.labels
        for (index, rule) in rules.enumerated() where rule.scope == scope {
            switch rule.kind {
            case .rate:
                if rule.match.matches(tool: event.call.tool, labels: event.call.labels, allowed: event.allowed) { self.rings[index].append(event.call.time) }
            case .sequence(let after, _):
                if after.matches(tool: event.call.tool, labels: labels, allowed: event.allowed) { self.lastSeen[index] = event.call.time }
            case .budget(let argument, _):
                if event.allowed, rule.match.matches(tool: event.call.tool, labels: event.call.labels, allowed: true),
                    let amount = event.call.amounts[argument], amount.isFinite, amount >= 0
                {
                    self.spent[index] += amount
                }
            case .denialStreak, .novelty, .taintedArgument, .delegations, .delegationDepth:
                break
            }
        }
    }
}

extension GuardHistory {
    mutating func recordResult(of call: GuardCall, labels: GuardLabels, rules: [GuardRule], scope: GuardRule.Scope) {
        for (index, rule) in rules.enumerated() where rule.scope == scope {
            guard case .sequence(let after, _) = rule.kind, after.matches(tool: call.tool, labels: labels, allowed: true) else { continue }
            self.lastSeen[index] = max(self.lastSeen[index], call.time)
        }
    }
}

/// The last `capacity` times, oldest overwritten.
struct TimeRing: Sendable {
    private var times: [Int64]
    private var next = 0
    private var filled = 0

    private let capacity: Int

    /// Allocated on the first time appended: most histories never see most rules' calls.
    init(capacity: Int) {
        self.capacity = capacity
        self.times = []
    }

    mutating func append(_ time: Int64) {
        guard self.capacity > 0 else { return }
        if self.times.isEmpty { self.times = Array(repeating: 0, count: self.capacity) }
        self.times[self.next] = time
        self.next = (self.next + 1) % self.times.count
        self.filled = min(self.filled + 1, self.times.count)
    }

    /// Whether all `capacity` kept times are after `start` (the oldest is): `capacity` calls
    /// since then, at least. One comparison.
    func isFull(since start: Int64) -> Bool {
        self.filled == self.capacity && self.capacity > 0 && self.times[self.next] > start
    }

    /// How many of the kept times are after `start`: the ring holds the latest `capacity`, so a
    /// full ring whose oldest is after `start` means at least `capacity` calls since.
    func count(since start: Int64) -> Int {
        var count = 0
        var index = self.next
        for _ in 0..<self.filled {
            index = (index - 1 + self.times.count) % self.times.count
            guard self.times[index] > start else { break }
            count += 1
        }
        return count
    }
}

/// The guard's answer on one call.
public struct GuardVerdict: Hashable, Sendable {
    /// The strongest action of the rules that fired; nil when none did.
    public private(set) var action: GuardRule.Action?
    /// The reason code of the first rule with that action.
    public private(set) var reason: String?
    /// Every rule that fired, in rule order.
    public private(set) var rules: [String] = []

    public static let none = GuardVerdict()

    mutating func add(_ rule: GuardRule) {
        self.rules.append(rule.id)
        if self.action.map({ rule.action > $0 }) ?? true {
            self.action = rule.action
            self.reason = rule.reason
        }
    }
}
