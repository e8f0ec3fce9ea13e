/// Answers authorization requests against a fixed policy set (Cedar 4.x rules).
///
/// - A satisfied `forbid` overrides every `permit`; without a satisfied `permit` the answer is deny.
/// - A policy whose condition raises an error is skipped and reported in `Response.errors`.
/// - `reason` lists the satisfied forbids if any, else the satisfied permits; both it and `errors`
///   are sorted by policy ID.
///
/// All the work that does not depend on the request happens in `init`: conditions are compiled to
/// closures with constants folded, the entities and types that scopes name get dense IDs, and
/// policies are indexed by their principal, action and resource constraints. A request resolves
/// its three entities and their ancestors to IDs once, then visits only the candidates of the most
/// selective dimension; policies that cannot apply cost nothing.
public struct Authorizer: Sendable {
    private let policies: [CompiledPolicy]
    /// Policy IDs in sorted order (index = rank).
    private let sortedIDs: [String]
    private let symbols: ScopeSymbols
    private let principalIndex: ScopeIndex
    private let actionIndex: ScopeIndex
    private let resourceIndex: ScopeIndex

    public init(_ policySet: PolicySet) {
        let list = policySet.effectivePolicies
        let order = list.indices.sorted { list[$0].id < list[$1].id }
        var rank = [Int](repeating: 0, count: list.count)
        for (r, i) in order.enumerated() { rank[i] = r }
        var symbols = ScopeSymbols()
        let compiled = list.enumerated().map { CompiledPolicy($0.element, rank: rank[$0.offset], symbols: &symbols) }
        let entityCount = symbols.entities.count
        let typeCount = symbols.types.count
        var principalIndex = ScopeIndex(entityCount: entityCount, typeCount: typeCount)
        var actionIndex = ScopeIndex(entityCount: entityCount, typeCount: typeCount)
        var resourceIndex = ScopeIndex(entityCount: entityCount, typeCount: typeCount)
        for (i, c) in compiled.enumerated() {
            principalIndex.add(c.principal, Int32(i))
            actionIndex.add(c.action, Int32(i))
            resourceIndex.add(c.resource, Int32(i))
        }
        self.policies = compiled
        self.sortedIDs = order.map { list[$0].id }
        self.symbols = symbols
        self.principalIndex = principalIndex
        self.actionIndex = actionIndex
        self.resourceIndex = resourceIndex
    }

    /// The number of policies (static and linked) this authorizer evaluates.
    public var policyCount: Int { self.policies.count }

    /// The decision for `request` with `entities` as the entity store.
    public func isAuthorized(_ request: Request, entities: Entities) -> Response {
        let pAnc = entities.ancestors(of: request.principal)
        let aAnc = entities.ancestors(of: request.action)
        let rAnc = entities.ancestors(of: request.resource)
        let env = EvalEnv(request: request, entities: entities, principalAncestors: pAnc, actionAncestors: aAnc, resourceAncestors: rAnc)
        let keys = RequestKeys(request, ancestors: (pAnc, aAnc, rAnc), self.symbols)

        var satisfiedForbids: [Int] = []
        var satisfiedPermits: [Int] = []
        var errors: [(Int, CedarError)] = []
        func visit(_ i: Int32) {
            let policy = self.policies[Int(i)]
            guard policy.scopeMatches(keys) else { return }
            do {
                if try policy.condition.run(env) {
                    if policy.effect == .forbid { satisfiedForbids.append(policy.rank) } else { satisfiedPermits.append(policy.rank) }
                }
            } catch {
                errors.append((policy.rank, error))
            }
        }

        // Visit the dimension with the fewest candidates.
        let pCount = self.principalIndex.candidateCount(keys.principal, keys)
        let aCount = self.actionIndex.candidateCount(keys.action, keys)
        let rCount = self.resourceIndex.candidateCount(keys.resource, keys)
        var mayRepeat = false
        if aCount <= pCount && aCount <= rCount {
            mayRepeat = self.actionIndex.hasMultiKeyEntries
            self.actionIndex.forEachCandidate(keys.action, keys, visit)
        } else if pCount <= rCount {
            self.principalIndex.forEachCandidate(keys.principal, keys, visit)
        } else {
            self.resourceIndex.forEachCandidate(keys.resource, keys, visit)
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
                reportedErrors.append(PolicyEvaluationError(policyID: self.sortedIDs[r], error: e))
                last = r
            }
        }
        return Response(decision: decision, reason: reasonRanks.map { self.sortedIDs[$0] }, errors: reportedErrors)
    }

    private static func uniqued(_ sorted: [Int]) -> [Int] {
        var out: [Int] = []
        for x in sorted where out.last != x { out.append(x) }
        return out
    }
}
