/// What the guard knows about a tool call's data and effects: the gateway maps its tool labels
/// (and a result's own label) onto these, so the guard depends on nothing but ``LatchCore``.
public struct GuardLabels: Hashable, Sendable {
    /// Sensitivity rank of the data: 0 public, 1 internal, 2 confidential, 3 restricted.
    public var sensitivity: Int
    public var egress: Egress
    public var sideEffects: SideEffects
    /// The call brings in content Latch does not trust (web pages, e-mail, files from outside):
    /// text an attacker may have written.
    public var untrusted: Bool

    public enum Egress: Int, Hashable, Sendable, Comparable {
        case none, `internal`, external
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public enum SideEffects: Int, Hashable, Sendable, Comparable {
        case none, write, destructive
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public init(sensitivity: Int = 1, egress: Egress = .none, sideEffects: SideEffects = .none, untrusted: Bool = false) {
        self.sensitivity = sensitivity
        self.egress = egress
        self.sideEffects = sideEffects
        self.untrusted = untrusted
    }
}

/// A tool call about to be decided: who, which task, which tool with which labels, when.
public struct GuardCall: Sendable {
    /// The agent's identity (its SPIFFE ID): the scope of per-agent rules.
    public var agent: String
    /// The task: the scope of per-task rules.
    public var task: String
    /// The tool's full name (`upstream.tool`).
    public var tool: String
    public var labels: GuardLabels
    /// Unix milliseconds.
    public var time: Int64
    /// Where the call's argument values came from (``ValueProvenance/origin(of:)`` of each).
    public var argumentSources: TaintSources
    /// The numeric values of the arguments budget rules count (``GuardRules/budgetArguments``),
    /// by argument name; an argument missing here is absent or not a number.
    public var amounts: [String: Double]

    public init(
        agent: String, task: String, tool: String, labels: GuardLabels, time: Int64, argumentSources: TaintSources = [],
        amounts: [String: Double] = [:]
    ) {
        self.agent = agent
        self.task = task
        self.tool = tool
        self.labels = labels
        self.time = time
        self.argumentSources = argumentSources
        self.amounts = amounts
    }
}

/// A call once decided (and, when it was sent, answered): what the guard's history keeps.
public struct GuardEvent: Sendable {
    public var call: GuardCall
    /// Whether the call was allowed (by scope, policy and guard).
    public var allowed: Bool
    /// The labels of what came back, when something did: the result's sensitivity may be higher
    /// than the tool's, and its content untrusted. Nil for a denied call.
    public var result: GuardLabels?
    /// The IDs of the guard's rules that fired on the call (``GuardVerdict/rules``).
    public var fired: [String]

    public init(call: GuardCall, allowed: Bool, result: GuardLabels? = nil, fired: [String] = []) {
        self.call = call
        self.allowed = allowed
        self.result = result
        self.fired = fired
    }

    /// The labels rules match a past event by: the result's where there is one (what the
    /// session now holds), else the tool's.
    var labels: GuardLabels { self.result ?? self.call.labels }
}
