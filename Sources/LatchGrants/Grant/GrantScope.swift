/// How sensitive the data a grant may touch is, in increasing order.
public enum Sensitivity: String, Hashable, Sendable, CaseIterable, Comparable {
    case `public`, `internal`, confidential, restricted

    /// 0 (public) to 3 (restricted): the order, as policies compare it (`sensitivity_rank`).
    public var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// What a task grant allows: the tools it may call, the data domains it may read, the
/// destinations data may go to, and the most sensitive data it may touch.
///
/// A scope only ever narrows along a delegation chain: every set of the child is a subset of
/// the parent's and its sensitivity is at most the parent's (``violation(within:)``).
public struct GrantScope: Hashable, Sendable {
    public var tools: Set<String>
    public var dataDomains: Set<String>
    public var destinations: Set<String>
    public var maxSensitivity: Sensitivity

    public init(tools: Set<String>, dataDomains: Set<String>, destinations: Set<String>, maxSensitivity: Sensitivity) {
        self.tools = tools
        self.dataDomains = dataDomains
        self.destinations = destinations
        self.maxSensitivity = maxSensitivity
    }

    /// The first way this scope is wider than `parent` (naming the bound and what crosses it),
    /// or nil when it is within.
    public func violation(within parent: GrantScope) -> String? {
        if let extra = self.tools.subtracting(parent.tools).sorted().first { return "tool \"\(extra)\" is not in the parent grant's tools" }
        if let extra = self.dataDomains.subtracting(parent.dataDomains).sorted().first {
            return "data domain \"\(extra)\" is not in the parent grant's data domains"
        }
        if let extra = self.destinations.subtracting(parent.destinations).sorted().first {
            return "destination \"\(extra)\" is not in the parent grant's destinations"
        }
        if self.maxSensitivity > parent.maxSensitivity {
            return "sensitivity \(self.maxSensitivity.rawValue) exceeds the parent grant's \(parent.maxSensitivity.rawValue)"
        }
        return nil
    }
}
