/// Answers authorization requests against a fixed policy set (Cedar 4.x rules).
///
/// - A satisfied `forbid` overrides every `permit`; without a satisfied `permit` the answer is deny.
/// - A policy whose condition raises an error is skipped and reported in `Response.errors`.
/// - `reason` lists the satisfied forbids if any, else the satisfied permits; both it and `errors`
///   are sorted by policy ID.
///
/// All the work that does not depend on the request happens in `init`: conditions are compiled to
/// closures with constants folded, and policies are indexed by their principal, action and resource
/// constraints. A request visits only the candidates of the most selective dimension.
public struct Authorizer: Sendable {
    private let policies: [CompiledPolicy]
    /// Policy IDs in sorted order (index = rank).
    private let sortedIDs: [String]
    private let principalIndex: ScopeIndex
    private let actionIndex: ScopeIndex
    private let resourceIndex: ScopeIndex

    public init(_ policySet: PolicySet) {
        let list = policySet.effectivePolicies
        let order = list.indices.sorted { list[$0].id < list[$1].id }
        var rank = [Int](repeating: 0, count: list.count)
        for (r, i) in order.enumerated() { rank[i] = r }
        var compiled: [CompiledPolicy] = []
        compiled.reserveCapacity(list.count)
        var principalIndex = ScopeIndex()
        var actionIndex = ScopeIndex()
        var resourceIndex = ScopeIndex()
        for (i, policy) in list.enumerated() {
            let c = CompiledPolicy(policy, rank: rank[i])
            compiled.append(c)
            Self.add(c.principal, i, to: &principalIndex)
            Self.add(c.resource, i, to: &resourceIndex)
            switch c.action {
            case .any: actionIndex.addUnconstrained(i)
            case .eq(let a): actionIndex.addEquality(a, i)
            case .in(let a): actionIndex.addAncestor(a, i)
            case .inSet(let set):
                let unique = Set(set)
                if unique.count > 1 { actionIndex.noteMultiKey() }
                for a in unique { actionIndex.addAncestor(a, i) }
            }
        }
        self.policies = compiled
        self.sortedIDs = order.map { list[$0].id }
        self.principalIndex = principalIndex
        self.actionIndex = actionIndex
        self.resourceIndex = resourceIndex
    }

    private static func add(_ scope: CompiledPolicy.Scope, _ i: Int, to index: inout ScopeIndex) {
        switch scope {
        case .any: index.addUnconstrained(i)
        case .eq(let u): index.addEquality(u, i)
        case .in(let u), .isIn(_, let u): index.addAncestor(u, i)
        case .is(let t): index.addType(t, i)
        case .never: break
        }
    }

    /// The number of policies (static and linked) this authorizer evaluates.
    public var policyCount: Int { self.policies.count }

    /// The decision for `request` with `entities` as the entity store.
    public func isAuthorized(_ request: Request, entities: Entities) -> Response {
        let env = EvalEnv(request: request, entities: entities)
        var satisfiedForbids: [Int] = []
        var satisfiedPermits: [Int] = []
        var errors: [(Int, CedarError)] = []

        // Pick the dimension with the fewest candidates.
        let noAncestors = Set<EntityUID>()
        let pAnc = self.principalIndex.needsAncestors ? entities.ancestors(of: request.principal) : noAncestors
        let aAnc = self.actionIndex.needsAncestors ? entities.ancestors(of: request.action) : noAncestors
        let rAnc = self.resourceIndex.needsAncestors ? entities.ancestors(of: request.resource) : noAncestors
        let pCount = self.principalIndex.candidateCount(request.principal, ancestors: pAnc)
        let aCount = self.actionIndex.candidateCount(request.action, ancestors: aAnc)
        let rCount = self.resourceIndex.candidateCount(request.resource, ancestors: rAnc)
        var mayRepeat = false

        func visit(_ i: Int) {
            let policy = self.policies[i]
            guard policy.scopeMatches(request, entities) else { return }
            do {
                if try policy.condition.run(env) {
                    if policy.effect == .forbid { satisfiedForbids.append(policy.rank) } else { satisfiedPermits.append(policy.rank) }
                }
            } catch {
                errors.append((policy.rank, error))
            }
        }
        if aCount <= pCount && aCount <= rCount {
            mayRepeat = self.actionIndex.hasMultiKeyEntries
            self.actionIndex.forEachCandidate(request.action, ancestors: aAnc, visit)
        } else if pCount <= rCount {
            self.principalIndex.forEachCandidate(request.principal, ancestors: pAnc, visit)
        } else {
            self.resourceIndex.forEachCandidate(request.resource, ancestors: rAnc, visit)
        }

        let decision: Decision
        var reasonRanks: [Int]
        if !satisfiedForbids.isEmpty {
            decision = .deny
            reasonRanks = satisfiedForbids
        } else if !satisfiedPermits.isEmpty {
            decision = .allow
            reasonRanks = satisfiedPermits
        } else {
            decision = .deny
            reasonRanks = []
        }
        if reasonRanks.count > 1 {
            reasonRanks.sort()
            if mayRepeat { reasonRanks = Self.uniqued(reasonRanks) }
        }
        var reportedErrors: [PolicyEvaluationError] = []
        if !errors.isEmpty {
            errors.sort { $0.0 < $1.0 }
            var last = -1
            for (r, e) in errors where r != last {
                reportedErrors.append(PolicyEvaluationError(policyID: self.idsByRank(r), error: e))
                last = r
            }
        }
        return Response(decision: decision, reason: reasonRanks.map { self.idsByRank($0) }, errors: reportedErrors)
    }

    @inline(__always) private func idsByRank(_ r: Int) -> String { self.sortedIDs[r] }

    private static func uniqued(_ sorted: [Int]) -> [Int] {
        var out: [Int] = []
        for x in sorted where out.last != x { out.append(x) }
        return out
    }
}
