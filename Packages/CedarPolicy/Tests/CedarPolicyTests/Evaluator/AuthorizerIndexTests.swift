import CedarPolicy
import Testing

/// Random entity stores, policies and requests over a small universe, so that scopes often match.
struct RandomWorld {
    var rng: SplitMix64
    let users = (0..<6).map { E.uid("User", "u\($0)") }
    let groups = (0..<4).map { E.uid("Group", "g\($0)") }
    let actions = (0..<4).map { E.uid("Action", "a\($0)") }
    let actionGroups = (0..<2).map { E.uid("Action", "ag\($0)") }
    let docs = (0..<5).map { E.uid("Doc", "d\($0)") }
    let folders = (0..<3).map { E.uid("Folder", "f\($0)") }

    init(seed: UInt64) { self.rng = SplitMix64(seed: seed) }

    mutating func pick<T>(_ list: [T]) -> T { list[Int.random(in: 0..<list.count, using: &self.rng)] }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self.rng) < p }

    mutating func entities() throws -> Entities {
        var list: [Entity] = []
        for u in self.users.dropLast() {  // the last user is not in the store
            var parents: Set<EntityUID> = []
            for g in self.groups where self.chance(0.3) { parents.insert(g) }
            list.append(Entity(uid: u, attributes: ["level": .long(Int64.random(in: 0..<5, using: &self.rng))], parents: parents))
        }
        for (i, g) in self.groups.enumerated() {
            let parents: Set<EntityUID> = i + 1 < self.groups.count && self.chance(0.5) ? [self.groups[i + 1]] : []
            list.append(Entity(uid: g, parents: parents))
        }
        for a in self.actions {
            var parents: Set<EntityUID> = []
            for g in self.actionGroups where self.chance(0.5) { parents.insert(g) }
            list.append(Entity(uid: a, parents: parents))
        }
        for g in self.actionGroups { list.append(Entity(uid: g)) }
        for d in self.docs {
            var parents: Set<EntityUID> = []
            for f in self.folders where self.chance(0.4) { parents.insert(f) }
            list.append(Entity(uid: d, attributes: ["owner": .entity(self.pick(self.users))], parents: parents))
        }
        for f in self.folders { list.append(Entity(uid: f)) }
        return try Entities(list)
    }

    mutating func scope(_ own: [EntityUID], _ parents: [EntityUID]) -> ScopeConstraint {
        let type = own[0].type
        switch Int.random(in: 0..<7, using: &self.rng) {
        case 0, 1: return .any
        case 2: return .eq(.uid(self.pick(own)))
        case 3: return .in(.uid(self.pick(parents + own)))
        case 4: return .is(self.chance(0.8) ? type : EntityType(unchecked: "Other"))
        case 5: return .isIn(type, .uid(self.pick(parents)))
        default: return .eq(.uid(self.pick(own)))
        }
    }

    mutating func action() -> ActionConstraint {
        switch Int.random(in: 0..<5, using: &self.rng) {
        case 0: return .any
        case 1: return .eq(self.pick(self.actions))
        case 2: return .in(self.pick(self.actionGroups + self.actions))
        case 3: return .inSet([self.pick(self.actions), self.pick(self.actionGroups)])
        default: return .inSet((0..<3).map { _ in self.pick(self.actions + self.actionGroups) })
        }
    }

    mutating func condition() -> Expr {
        switch Int.random(in: 0..<8, using: &self.rng) {
        case 0: return E.bool(true)
        case 1: return E.bool(false)
        case 2: return E.bin(.ge, E.attr(E.principal, "level"), E.long(Int64.random(in: 0..<5, using: &self.rng)))  // errors for u5
        case 3: return E.eq(E.attr(E.resource, "owner"), E.principal)
        case 4: return E.has(E.context, "flag")
        case 5: return E.and(E.has(E.context, "n"), E.bin(.lt, E.attr(E.context, "n"), E.long(5)))
        case 6: return E.bin(.in, E.principal, E.lit(.entity(self.pick(self.groups))))
        default: return E.attr(E.context, "n")  // a long: type error when present, missing-attribute error otherwise
        }
    }

    mutating func policies(_ count: Int) -> [Policy] {
        (0..<count).map { i in
            var conditions: [Condition] = []
            for _ in 0..<Int.random(in: 0..<3, using: &self.rng) {
                conditions.append(Condition(kind: self.chance(0.7) ? .when : .unless, body: self.condition()))
            }
            // Forbids name one principal so that large sets still allow some requests.
            let effect: Effect = self.chance(0.1) ? .forbid : .permit
            let principal = effect == .forbid ? .eq(.uid(self.pick(self.users))) : self.scope(self.users, self.groups)
            return Policy(
                id: "policy\(i)", effect: effect, principal: principal,
                action: self.action(), resource: self.scope(self.docs, self.folders), conditions: conditions)
        }
    }

    mutating func request() -> Request {
        var context: [String: Value] = [:]
        if self.chance(0.5) { context["flag"] = .bool(true) }
        if self.chance(0.5) { context["n"] = .long(Int64.random(in: 0..<10, using: &self.rng)) }
        let principal = self.chance(0.1) ? self.pick(self.groups) : self.pick(self.users)
        return Request(principal: principal, action: self.pick(self.actions), resource: self.pick(self.docs), context: context)
    }
}

@Suite("Authorizer: index correctness")
struct AuthorizerIndexTests {
    /// The response computed by evaluating every policy, with no index.
    static func naive(_ policies: PolicySet, _ request: Request, _ entities: Entities) -> Response {
        let evaluator = Evaluator(request: request, entities: entities)
        var permits: [String] = []
        var forbids: [String] = []
        var errors: [PolicyEvaluationError] = []
        for p in policies.effectivePolicies {
            do {
                if try evaluator.isSatisfied(p) {
                    if p.effect == .permit { permits.append(p.id) } else { forbids.append(p.id) }
                }
            } catch {
                errors.append(PolicyEvaluationError(policyID: p.id, error: error))
            }
        }
        errors.sort { $0.policyID < $1.policyID }
        if !forbids.isEmpty { return Response(decision: .deny, reason: forbids.sorted(), errors: errors) }
        if !permits.isEmpty { return Response(decision: .allow, reason: permits.sorted(), errors: errors) }
        return Response(decision: .deny, reason: [], errors: errors)
    }

    @Test("indexed answers equal naive evaluation on random policy sets", arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomized(_ seed: UInt64) throws {
        var world = RandomWorld(seed: seed)
        let entities = try world.entities()
        let policies = try PolicySet(policies: world.policies(Int(seed) * 25))
        let authorizer = Authorizer(policies)
        var allows = 0
        var errors = 0
        for _ in 0..<300 {
            let request = world.request()
            let fast = authorizer.isAuthorized(request, entities: entities)
            let slow = Self.naive(policies, request, entities)
            #expect(fast.decision == slow.decision, "\(request)")
            #expect(fast.reason == slow.reason, "\(request)")
            #expect(fast.errors.map(\.policyID) == slow.errors.map(\.policyID), "\(request)")
            if fast.decision == .allow { allows += 1 }
            errors += fast.errors.count
        }
        // The generator must exercise both outcomes and errors, or the comparison proves little.
        if seed > 2 {
            #expect(allows > 0 && allows < 300)
            #expect(errors > 0)
        }
    }
}
