/// One guard rule: when a call matches and the history of its scope says so, a verdict.
///
/// Rules are data (`guard_rules` in the configuration); the kinds, in the spirit of temporal
/// authorization policies, each read one bounded piece of the scope's history:
/// - ``Kind/rate(limit:window:)``: at most `limit` matching calls within `window` (the next is refused);
/// - ``Kind/denialStreak(limit:)``: `limit` denials in a row (an agent iterating on failure);
/// - ``Kind/sequence(after:within:)``: a matching call after a call matching `after` (within
///   `within`, or ever in the scope when nil): data flow such as a restricted read followed by egress;
/// - ``Kind/novelty``: a tool this agent has never been allowed to use before;
/// - ``Kind/taintedArgument(sources:)``: an argument whose value came from untrusted or sensitive
///   output earlier in the task (``ValueProvenance``);
/// - ``Kind/budget(argument:limit:)``: the sum of a numeric argument over the scope's allowed
///   matching calls stays within `limit` (payments per task, say);
/// - ``Kind/delegations(limit:)`` and ``Kind/delegationDepth(limit:)``: about token exchanges that
///   hand a grant on, not calls: at most `limit` delegated grants in the scope (fan-out), none
///   deeper than `limit` below the root.
public struct GuardRule: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case rate(limit: Int, window: Int64)
        case denialStreak(limit: Int)
        case sequence(after: GuardMatch, within: Int64?)
        case novelty
        case taintedArgument(sources: TaintSources)
        case budget(argument: String, limit: Double)
        case delegations(limit: Int)
        case delegationDepth(limit: Int)

        /// Whether the rule is about delegations (token exchanges) rather than calls.
        public var isDelegation: Bool {
            switch self {
            case .delegations, .delegationDepth: return true
            default: return false
            }
        }
    }

    /// Whose history the rule reads: the task's, or the agent's across its tasks.
    public enum Scope: Hashable, Sendable {
        case task, agent
    }

    /// A rule's consequence, weakest first: hold for a person's approval, deny the call, or trip
    /// the kill switch (deny, revoke the task's grants, quarantine the agent).
    public enum Action: Int, Hashable, Sendable, Comparable {
        case hold, deny, kill
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Names the rule in verdicts and records.
    public var id: String
    public var kind: Kind
    /// The calls the rule is about (for ``Kind/rate(limit:window:)``, also the calls it counts).
    public var match: GuardMatch
    public var scope: Scope
    public var action: Action
    /// The reason code a verdict carries (e.g. `chain_anomaly`).
    public var reason: String

    public init(id: String, kind: Kind, match: GuardMatch = GuardMatch(), scope: Scope = .task, action: Action, reason: String) {
        self.id = id
        self.kind = kind
        self.match = match
        self.scope = scope
        self.action = action
        self.reason = reason
    }
}

/// Which calls a rule (or a ``GuardRule/Kind/sequence(after:within:)`` step) is about; every
/// condition given must hold, none given matches every call.
public struct GuardMatch: Hashable, Sendable {
    /// Tool name patterns: `mail.send_email`, `mail.*` (a prefix), `*.send_email` (a suffix) or `*`.
    /// Empty matches every tool.
    public var tools: [ToolPattern]
    /// The data's sensitivity rank is at least this (for a past call, its result's label).
    public var minSensitivity: Int?
    /// The tool's egress class is at least this.
    public var minEgress: GuardLabels.Egress?
    /// The tool's side effects are at least these.
    public var minSideEffects: GuardLabels.SideEffects?
    /// The call brought in (or, for the call being decided, its tool brings in) untrusted content.
    public var untrusted: Bool?
    /// For past calls only: whether they were allowed. Ignored for the call being decided.
    public var allowed: Bool?

    public init(
        tools: [ToolPattern] = [], minSensitivity: Int? = nil, minEgress: GuardLabels.Egress? = nil,
        minSideEffects: GuardLabels.SideEffects? = nil, untrusted: Bool? = nil, allowed: Bool? = nil
    ) {
        self.tools = tools
        self.minSensitivity = minSensitivity
        self.minEgress = minEgress
        self.minSideEffects = minSideEffects
        self.untrusted = untrusted
        self.allowed = allowed
    }

    /// Whether a call with this tool and these labels matches (`allowed` nil for the call being decided).
    func matches(tool: String, labels: GuardLabels, allowed: Bool?) -> Bool {
        if let wanted = self.allowed, let allowed, wanted != allowed { return false }
        if let minimum = self.minSensitivity, labels.sensitivity < minimum { return false }
        if let minimum = self.minEgress, labels.egress < minimum { return false }
        if let minimum = self.minSideEffects, labels.sideEffects < minimum { return false }
        if let untrusted = self.untrusted, labels.untrusted != untrusted { return false }
        return self.tools.isEmpty || self.tools.contains { $0.matches(tool) }
    }
}

/// A tool name pattern: exact, `prefix*`, `*suffix` or `*`.
///
/// Invariants (checked by ``init(parsing:)``): at most one `*`, at the start or the end; not empty.
public struct ToolPattern: Hashable, Sendable, CustomStringConvertible {
    enum Form: Hashable, Sendable {
        case any
        case exact(String)
        case prefix(String)
        case suffix(String)
    }

    let form: Form

    public init(parsing text: String) throws(GuardError) {
        let stars = text.utf8.count { $0 == UInt8(ascii: "*") }
        switch stars {
        case 0 where !text.isEmpty: self.form = .exact(text)
        case 1 where text == "*": self.form = .any
        case 1 where text.hasSuffix("*"): self.form = .prefix(String(text.dropLast()))
        case 1 where text.hasPrefix("*"): self.form = .suffix(String(text.dropFirst()))
        default: throw GuardError("tool pattern \"\(text)\" must be a name, name*, *name or *")
        }
    }

    func matches(_ tool: String) -> Bool {
        switch self.form {
        case .any: return true
        case .exact(let name): return tool == name
        case .prefix(let prefix): return tool.utf8.starts(with: prefix.utf8)
        case .suffix(let suffix): return tool.utf8.reversed().starts(with: suffix.utf8.reversed())
        }
    }

    public var description: String {
        switch self.form {
        case .any: return "*"
        case .exact(let name): return name
        case .prefix(let prefix): return prefix + "*"
        case .suffix(let suffix): return "*" + suffix
        }
    }
}

/// A malformed guard rule.
public struct GuardError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
