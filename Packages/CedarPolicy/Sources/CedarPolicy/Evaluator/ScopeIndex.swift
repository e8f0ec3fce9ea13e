/// Policies indexed by one scope dimension (principal, action or resource), so that a request only
/// visits the policies whose constraint on that dimension can match.
struct ScopeIndex: Sendable {
    /// `== E` constraints, by E.
    private var byEquality: [EntityUID: [Int]] = [:]
    /// `in E`, `is T in E`, action `in [..]` constraints, by each E.
    private var byAncestor: [EntityUID: [Int]] = [:]
    /// `is T` constraints, by T.
    private var byType: [EntityType: [Int]] = [:]
    /// Unconstrained policies.
    private var unconstrained: [Int] = []
    /// Whether some policy is listed under more than one key (action `in [A, B]`).
    private(set) var hasMultiKeyEntries = false

    mutating func addEquality(_ uid: EntityUID, _ i: Int) { self.byEquality[uid, default: []].append(i) }
    mutating func addAncestor(_ uid: EntityUID, _ i: Int) { self.byAncestor[uid, default: []].append(i) }
    mutating func addType(_ type: EntityType, _ i: Int) { self.byType[type, default: []].append(i) }
    mutating func addUnconstrained(_ i: Int) { self.unconstrained.append(i) }
    mutating func noteMultiKey() { self.hasMultiKeyEntries = true }

    /// Whether looking up a request needs the entity's ancestors.
    var needsAncestors: Bool { !self.byAncestor.isEmpty }

    /// How many candidates `forEachCandidate` would visit.
    func candidateCount(_ uid: EntityUID, ancestors: Set<EntityUID>) -> Int {
        var n = self.unconstrained.count
        if let l = self.byEquality[uid] { n += l.count }
        if !self.byType.isEmpty, let l = self.byType[uid.type] { n += l.count }
        if !self.byAncestor.isEmpty {
            if let l = self.byAncestor[uid] { n += l.count }
            for a in ancestors { if let l = self.byAncestor[a] { n += l.count } }
        }
        return n
    }

    /// Calls `body` with each policy whose constraint on this dimension may match `uid`.
    func forEachCandidate(_ uid: EntityUID, ancestors: Set<EntityUID>, _ body: (Int) -> Void) {
        for i in self.unconstrained { body(i) }
        if let l = self.byEquality[uid] { for i in l { body(i) } }
        if !self.byType.isEmpty, let l = self.byType[uid.type] { for i in l { body(i) } }
        if !self.byAncestor.isEmpty {
            if let l = self.byAncestor[uid] { for i in l { body(i) } }
            for a in ancestors { if let l = self.byAncestor[a] { for i in l { body(i) } } }
        }
    }
}
