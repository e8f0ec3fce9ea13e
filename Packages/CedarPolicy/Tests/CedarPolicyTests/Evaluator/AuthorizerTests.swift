import CedarPolicy
import Testing

/// Policy builders for authorizer tests.
enum P {
    static func policy(
        _ id: String, _ effect: Effect, principal: ScopeConstraint = .any, action: ActionConstraint = .any,
        resource: ScopeConstraint = .any, when: [Expr] = [], unless: [Expr] = []
    ) -> Policy {
        Policy(
            id: id, effect: effect, principal: principal, action: action, resource: resource,
            conditions: when.map { Condition(kind: .when, body: $0) } + unless.map { Condition(kind: .unless, body: $0) })
    }

    static func authorize(_ policies: [Policy], _ request: Request = Fixture.request, _ entities: Entities = Fixture.entities) throws -> Response {
        Authorizer(try PolicySet(policies: policies)).isAuthorized(request, entities: entities)
    }
}

@Suite("Authorizer: decision rules")
struct AuthorizerRuleTests {
    @Test("no policies: deny with no reason")
    func defaultDeny() throws {
        let r = try P.authorize([])
        #expect(r.decision == .deny)
        #expect(r.reason.isEmpty)
        #expect(r.errors.isEmpty)
    }

    @Test("a satisfied permit allows, with its ID as reason")
    func permit() throws {
        let r = try P.authorize([P.policy("p", .permit), P.policy("q", .permit, when: [E.bool(false)])])
        #expect(r.decision == .allow)
        #expect(r.reason == ["p"])
    }

    @Test("forbid overrides permit; reason lists only forbids")
    func forbidOverrides() throws {
        let r = try P.authorize([P.policy("p", .permit), P.policy("f", .forbid), P.policy("g", .forbid, when: [E.bool(false)])])
        #expect(r.decision == .deny)
        #expect(r.reason == ["f"])
    }

    @Test("only unsatisfied permits: deny with no reason")
    func unsatisfied() throws {
        let r = try P.authorize([P.policy("p", .permit, when: [E.bool(false)]), P.policy("q", .permit, unless: [E.bool(true)])])
        #expect(r.decision == .deny)
        #expect(r.reason.isEmpty)
    }

    @Test("reasons and errors are sorted by policy ID")
    func sorted() throws {
        let bad = E.attr(E.principal, "nope")
        let r = try P.authorize([
            P.policy("c", .permit), P.policy("a", .permit), P.policy("b", .permit), P.policy("z", .permit, when: [bad]),
            P.policy("y", .forbid, when: [bad]),
        ])
        #expect(r.decision == .allow)
        #expect(r.reason == ["a", "b", "c"])
        #expect(r.errors.map(\.policyID) == ["y", "z"])
        #expect(r.errors.allSatisfy { $0.error.code == .attributeNotFound })
    }

    @Test("an erroring forbid is skipped, so a permit can allow")
    func erroringForbid() throws {
        let r = try P.authorize([P.policy("p", .permit), P.policy("f", .forbid, when: [E.bin(.add, E.long(.max), E.long(1))])])
        #expect(r.decision == .allow)
        #expect(r.reason == ["p"])
        #expect(r.errors.map(\.policyID) == ["f"])
        #expect(r.errors.first?.error.code == .overflow)
    }

    @Test("a condition that is not a bool is a type error")
    func nonBoolCondition() throws {
        let r = try P.authorize([P.policy("p", .permit, when: [E.long(1)]), P.policy("q", .permit, unless: [E.str("x")])])
        #expect(r.decision == .deny)
        #expect(r.errors.map(\.policyID) == ["p", "q"])
        #expect(r.errors.allSatisfy { $0.error.code == .typeError })
    }

    @Test("conditions run in order and short-circuit across clauses")
    func clauseOrder() throws {
        let bad = E.attr(E.principal, "nope")
        let r = try P.authorize([
            P.policy("a", .permit, when: [E.bool(false), bad]),  // second clause never runs
            P.policy("b", .permit, when: [E.bool(true)], unless: [bad]),  // error
            P.policy("c", .permit, when: [bad], unless: [E.bool(true)]),  // error (when first)
        ])
        #expect(r.decision == .deny)
        #expect(r.errors.map(\.policyID) == ["b", "c"])
    }

    @Test("a policy whose scope does not match is not evaluated (no error)")
    func scopeBeforeCondition() throws {
        let r = try P.authorize([P.policy("p", .permit, principal: .eq(.uid(Fixture.bob)), when: [E.attr(E.principal, "nope")])])
        #expect(r.errors.isEmpty)
        #expect(r.decision == .deny)
    }

    @Test("linked templates are evaluated with their slots filled")
    func templates() throws {
        var set = PolicySet()
        try set.add(P.policy("t", .permit, principal: .in(.slot(.principal))))
        try set.link(TemplateLink(templateID: "t", newID: "link1", values: [.principal: Fixture.top]))
        try set.link(TemplateLink(templateID: "t", newID: "link2", values: [.principal: Fixture.bob]))
        let r = Authorizer(set).isAuthorized(Fixture.request, entities: Fixture.entities)
        #expect(r.decision == .allow)
        #expect(r.reason == ["link1"])
    }

    @Test("action in a list matching twice is reported once")
    func multiKeyAction() throws {
        let r = try P.authorize([P.policy("p", .permit, action: .inSet([Fixture.read, Fixture.readGroup]))])
        #expect(r.reason == ["p"])
    }
}

@Suite("Authorizer: scope matching")
struct AuthorizerScopeTests {
    static let principals: [(ScopeConstraint, Bool)] = [
        (.any, true), (.eq(.uid(Fixture.alice)), true), (.eq(.uid(Fixture.bob)), false), (.in(.uid(Fixture.group)), true),
        (.in(.uid(Fixture.top)), true), (.in(.uid(Fixture.alice)), true), (.in(.uid(Fixture.bob)), false),
        (.is(EntityType(unchecked: "User")), true), (.is(EntityType(unchecked: "Group")), false),
        (.isIn(EntityType(unchecked: "User"), .uid(Fixture.top)), true), (.isIn(EntityType(unchecked: "Group"), .uid(Fixture.top)), false),
        (.isIn(EntityType(unchecked: "User"), .uid(Fixture.bob)), false),
    ]

    @Test("principal constraints", arguments: principals)
    func principal(_ c: ScopeConstraint, _ matches: Bool) throws {
        #expect(try P.authorize([P.policy("p", .permit, principal: c)]).decision == (matches ? .allow : .deny))
    }

    static let actions: [(ActionConstraint, Bool)] = [
        (.any, true), (.eq(Fixture.read), true), (.eq(Fixture.readGroup), false), (.in(Fixture.readGroup), true),
        (.in(Fixture.read), true), (.in(E.uid("Action", "write")), false), (.inSet([E.uid("Action", "x"), Fixture.readGroup]), true),
        (.inSet([E.uid("Action", "x")]), false), (.inSet([]), false),
    ]

    @Test("action constraints", arguments: actions)
    func action(_ c: ActionConstraint, _ matches: Bool) throws {
        #expect(try P.authorize([P.policy("p", .permit, action: c)]).decision == (matches ? .allow : .deny))
    }

    static let resources: [(ScopeConstraint, Bool)] = [
        (.any, true), (.eq(.uid(Fixture.doc)), true), (.eq(.uid(E.uid("Doc", "other"))), false), (.in(.uid(Fixture.doc)), true),
        (.in(.uid(Fixture.group)), false), (.is(EntityType(unchecked: "Doc")), true), (.is(EntityType(unchecked: "User")), false),
        (.isIn(EntityType(unchecked: "Doc"), .uid(Fixture.doc)), true),
    ]

    @Test("resource constraints", arguments: resources)
    func resource(_ c: ScopeConstraint, _ matches: Bool) throws {
        #expect(try P.authorize([P.policy("p", .permit, resource: c)]).decision == (matches ? .allow : .deny))
    }

    @Test("an unknown principal matches only == itself, `in` itself and `is` its type")
    func unknownPrincipal() throws {
        let zed = E.uid("User", "zed")
        let request = Request(principal: zed, action: Fixture.read, resource: Fixture.doc)
        #expect(try P.authorize([P.policy("p", .permit, principal: .in(.uid(zed)))], request).decision == .allow)
        #expect(try P.authorize([P.policy("p", .permit, principal: .in(.uid(Fixture.group)))], request).decision == .deny)
        #expect(try P.authorize([P.policy("p", .permit, principal: .is(EntityType(unchecked: "User")))], request).decision == .allow)
    }
}
