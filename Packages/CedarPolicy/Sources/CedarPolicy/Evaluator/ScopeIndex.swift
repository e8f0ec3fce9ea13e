/// Policies indexed by one scope dimension (principal, action or resource) over symbol IDs, so
/// that a request only visits the policies whose constraint on that dimension can match.
struct ScopeIndex: Sendable {
    /// `== E` constraints, by E's ID.
    private var byEquality: [[Int32]]
    /// `in E`, `is T in E`, action `in [..]` constraints, by each E's ID.
    private var byAncestor: [[Int32]]
    /// `is T` constraints, by T's ID.
    private var byType: [[Int32]]
    /// Unconstrained policies.
    private var unconstrained: [Int32] = []
    /// Whether some policy is listed under more than one key (action `in [A, B]`).
    private(set) var hasMultiKeyEntries = false

    init(entityCount: Int, typeCount: Int) {
        self.byEquality = Array(repeating: [], count: entityCount)
        self.byAncestor = Array(repeating: [], count: entityCount)
        self.byType = Array(repeating: [], count: typeCount)
    }

    mutating func add(_ scope: CompiledPolicy.Scope, _ i: Int32) {
        switch scope {
        case .any: self.unconstrained.append(i)
        case .eq(let id): self.byEquality[Int(id)].append(i)
        case .in(let id), .isIn(_, let id): self.byAncestor[Int(id)].append(i)
        case .is(let t): self.byType[Int(t)].append(i)
        case .never: break
        }
    }

    mutating func add(_ scope: CompiledPolicy.ActionScope, _ i: Int32) {
        switch scope {
        case .any: self.unconstrained.append(i)
        case .eq(let id): self.byEquality[Int(id)].append(i)
        case .in(let id): self.byAncestor[Int(id)].append(i)
        case .inSet(let ids):
            var seen: [Int32] = []
            for id in ids where !seen.contains(id) {
                seen.append(id)
                self.byAncestor[Int(id)].append(i)
            }
            if seen.count > 1 { self.hasMultiKeyEntries = true }
        }
    }

    /// How many candidates `forEachCandidate` would visit for `e`.
    func candidateCount(_ e: RequestKeys.Resolved, _ keys: borrowing RequestKeys) -> Int {
        var n = self.unconstrained.count
        if e.id >= 0 { n += self.byEquality[Int(e.id)].count + self.byAncestor[Int(e.id)].count }
        if e.type >= 0 { n += self.byType[Int(e.type)].count }
        for k in e.ancestors { n += self.byAncestor[Int(keys.buffer[k])].count }
        return n
    }

    /// Calls `body` with each policy whose constraint on this dimension may match `e`.
    @inline(__always) func forEachCandidate(_ e: RequestKeys.Resolved, _ keys: borrowing RequestKeys, _ body: (Int32) -> Void) {
        for i in self.unconstrained { body(i) }
        if e.id >= 0 {
            for i in self.byEquality[Int(e.id)] { body(i) }
            for i in self.byAncestor[Int(e.id)] { body(i) }
        }
        if e.type >= 0 { for i in self.byType[Int(e.type)] { body(i) } }
        for k in e.ancestors { for i in self.byAncestor[Int(keys.buffer[k])] { body(i) } }
    }
}
