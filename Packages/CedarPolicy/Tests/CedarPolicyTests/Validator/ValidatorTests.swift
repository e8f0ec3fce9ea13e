import Testing
@testable import CedarPolicy

/// Validator behaviour on hand-built policy ASTs (independent of the policy parser).
@Suite("Strict validator")
struct ValidatorTests {
    static let schemaText = """
        namespace App {
            entity User in [Group] { name: String, age?: Long, info: { a?: Long } } tags String;
            entity Group;
            entity Doc { owner: User, readers: Set<User> };
            entity Color enum ["red", "green"];
            action read appliesTo { principal: [User], resource: [Doc], context: { ip?: ipaddr, n: Long } };
            action view in [read] appliesTo { principal: User, resource: Doc };
            action paint appliesTo { principal: User, resource: Color };
            action unused;
        }
        """

    static let validator: Validator = {
        // The sample schema is valid; a failure here shows up as every test failing.
        let schema = (try? Schema(parsingCedar: Self.schemaText)) ?? Schema()
        return Validator(schema: schema)
    }()

    // MARK: AST helpers

    static func v(_ v: Variable) -> Expr { Expr(.variable(v)) }
    static func lit(_ b: Bool) -> Expr { Expr(.literal(.bool(b))) }
    static func lit(_ n: Int64) -> Expr { Expr(.literal(.long(n))) }
    static func lit(_ s: String) -> Expr { Expr(.literal(.string(s))) }
    static func uid(_ t: String, _ id: String) -> EntityUID { EntityUID(type: EntityType(unchecked: t), id: id) }
    static func ent(_ t: String, _ id: String) -> Expr { Expr(.literal(.entity(uid(t, id)))) }
    static func attr(_ e: Expr, _ a: String) -> Expr { Expr(.getAttr(e, a)) }
    static func has(_ e: Expr, _ a: String) -> Expr { Expr(.hasAttr(e, a)) }
    static func and(_ a: Expr, _ b: Expr) -> Expr { Expr(.and(a, b)) }
    static func or(_ a: Expr, _ b: Expr) -> Expr { Expr(.or(a, b)) }
    static func bin(_ op: BinaryOp, _ a: Expr, _ b: Expr) -> Expr { Expr(.binary(op, a, b)) }

    static func check(_ body: Expr?, principal: ScopeConstraint = .any, action: ActionConstraint = .any,
                      resource: ScopeConstraint = .any) -> ValidationResult {
        let policy = Policy(id: "p", effect: .permit, principal: principal, action: action, resource: resource,
                            conditions: body.map { [Condition(kind: .when, body: $0)] } ?? [])
        do {
            return Self.validator.validate(try PolicySet(policies: [policy]))
        } catch {
            return ValidationResult(errors: [ValidationDiagnostic(policyID: "p", message: "\(error)")])
        }
    }

    static let read = ActionConstraint.eq(uid("App::Action", "read"))

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var body: Expr?
        var principal: ScopeConstraint = .any
        var action: ActionConstraint = .any
        var resource: ScopeConstraint = .any
        var passes: Bool
        var description: String { self.name }
    }

    static let cases: [Case] = [
        Case(name: "unconstrained policy", body: nil, passes: true),
        Case(name: "required attribute", body: bin(.eq, attr(v(.principal), "name"), lit("a")), passes: true),
        Case(name: "optional attribute without has", body: bin(.gt, attr(v(.principal), "age"), lit(3)), passes: false),
        Case(name: "optional attribute guarded by has",
             body: and(has(v(.principal), "age"), bin(.gt, attr(v(.principal), "age"), lit(3))), passes: true),
        Case(name: "has guard does not flow through ||",
             body: or(has(v(.principal), "age"), bin(.gt, attr(v(.principal), "age"), lit(3))), passes: false),
        Case(name: "guard through if-then",
             body: Expr(.ifThenElse(has(v(.principal), "age"), bin(.gt, attr(v(.principal), "age"), lit(3)), lit(false))),
             passes: true),
        Case(name: "nested optional record attribute",
             body: bin(.eq, attr(attr(v(.principal), "info"), "a"), lit(1)), passes: false),
        Case(name: "unknown attribute", body: bin(.eq, attr(v(.principal), "nope"), lit(1)), passes: false),
        Case(name: "short-circuit false && skips the right side",
             body: and(lit(false), attr(v(.principal), "nope")), passes: true),
        Case(name: "== between incompatible types", body: bin(.eq, v(.principal), lit(1)), passes: false),
        Case(name: "== between disjoint entity types is just false", body: bin(.eq, v(.principal), v(.resource)), passes: true),
        Case(name: "like on an entity", body: Expr(.like(v(.principal), Pattern([.wildcard]))), passes: false),
        Case(name: "contains with the wrong element type",
             body: bin(.contains, attr(v(.resource), "readers"), lit(1)), passes: false),
        Case(name: "contains with the right element type",
             body: bin(.contains, attr(v(.resource), "readers"), v(.principal)), action: read, passes: true),
        Case(name: "attribute missing for one applicable resource type",
             body: bin(.contains, attr(v(.resource), "readers"), v(.principal)), passes: false),
        Case(name: "empty set literal", body: bin(.contains, Expr(.set([])), lit(1)), passes: false),
        Case(name: "heterogeneous set literal", body: bin(.contains, Expr(.set([lit(1), lit("a")])), lit(1)), passes: false),
        Case(name: "invalid ip literal", body: Expr(.call(.isIpv4, [Expr(.call(.ip, [lit("xyz")]))])), passes: false),
        Case(name: "valid ip literal", body: Expr(.call(.isIpv4, [Expr(.call(.ip, [lit("10.0.0.1/8")]))])), passes: true),
        Case(name: "extension constructor on a non-literal",
             body: Expr(.call(.isIpv4, [Expr(.call(.ip, [attr(v(.principal), "name")]))])), passes: false),
        Case(name: "getTag without hasTag", body: bin(.eq, bin(.getTag, v(.principal), lit("t")), lit("x")), passes: false),
        Case(name: "getTag guarded by hasTag",
             body: and(bin(.hasTag, v(.principal), lit("t")), bin(.eq, bin(.getTag, v(.principal), lit("t")), lit("x"))),
             passes: true),
        Case(name: "getTag on a type without tags",
             body: and(bin(.hasTag, v(.resource), lit("t")), bin(.eq, bin(.getTag, v(.resource), lit("t")), lit("x"))),
             passes: true),
        Case(name: "optional context attribute", body: Expr(.call(.isIpv4, [attr(v(.context), "ip")])), action: read,
             passes: false),
        Case(name: "unknown entity type in the scope", body: nil, principal: .eq(.uid(uid("App::Nope", "a"))), passes: false),
        Case(name: "unknown action", body: nil, action: .eq(uid("App::Action", "nope")), passes: false),
        Case(name: "enum id not in the enum", body: nil, resource: .eq(.uid(uid("App::Color", "blue"))), passes: false),
        Case(name: "enum id in the enum", body: nil, resource: .eq(.uid(uid("App::Color", "red"))), passes: true),
        Case(name: "scope matches no action", body: nil, principal: .is(EntityType(unchecked: "App::Group")), passes: false),
        Case(name: "principal in a parent type applies", body: nil, principal: .in(.uid(uid("App::Group", "g"))), passes: true),
        Case(name: "action group membership", body: nil, action: .in(uid("App::Action", "read")), passes: true),
        Case(name: "arithmetic on strings", body: bin(.gt, bin(.add, attr(v(.principal), "name"), lit(1)), lit(0)), passes: false),
        Case(name: "if branches with incompatible types",
             body: bin(.eq, Expr(.ifThenElse(has(v(.principal), "age"), lit(1), lit("a"))), lit(1)), passes: false),
        Case(name: "template slot typed by the applicable principals", body: nil, principal: .in(.slot(.principal)), passes: true),
    ]

    @Test("agrees with Cedar 4.12 on each case", arguments: Self.cases)
    func validates(_ c: Case) {
        let result = Self.check(c.body, principal: c.principal, action: c.action, resource: c.resource)
        #expect(result.passed == c.passes, "\(c.name): \(result.errors)")
    }

    @Test("an always-false policy is only a warning")
    func impossiblePolicy() {
        let result = Self.check(Self.lit(false))
        #expect(result.passed)
        #expect(result.warnings.count == 1)
    }

    @Test("errors name the policy and carry a location")
    func diagnostics() throws {
        let loc = SourceLocation(offset: 10, line: 2, column: 5)
        let body = Expr(.binary(.eq, Expr(.getAttr(Self.v(.principal), "nope"), at: loc), Self.lit(1)), at: loc)
        let result = Self.check(body)
        let error = try #require(result.errors.first)
        #expect(error.policyID == "p")
        #expect(error.location == loc)
        #expect(error.message.contains("nope"))
    }

    @Test("deep expressions and long condition chains validate without exhausting the stack")
    func deepPolicies() throws {
        var body = Self.lit(1)
        for _ in 0..<128 { body = Self.bin(.add, body, Self.lit(1)) }
        let deep = Self.check(Self.bin(.gt, body, Self.lit(0)))
        #expect(deep.passed, "\(deep.errors)")

        let conditions = Array(repeating: Condition(kind: .when, body: Self.has(Self.v(.principal), "age")), count: 5_000)
        let policy = Policy(id: "p", effect: .permit, conditions: conditions)
        let chain = Self.validator.validate(try PolicySet(policies: [policy]))
        #expect(chain.passed, "\(chain.errors)")

        var tooDeep = Self.lit(true)
        for _ in 0..<Typechecker.maxDepth + 10 { tooDeep = Expr(.not(tooDeep)) }
        #expect(!Self.check(tooDeep).passed)

    }

    @Test("template links are checked for unknown entity types and applicability")
    func links() throws {
        let template = Policy(id: "t", effect: .permit, principal: .in(.slot(.principal)))
        var set = try PolicySet(policies: [template])
        try set.link(TemplateLink(templateID: "t", newID: "ok", values: [.principal: Self.uid("App::Group", "g")]))
        #expect(Self.validator.validate(set).passed)

        var unknown = set
        try unknown.link(TemplateLink(templateID: "t", newID: "unknown", values: [.principal: Self.uid("App::Nope", "x")]))
        let unknownResult = Self.validator.validate(unknown)
        #expect(unknownResult.errors.map(\.policyID).contains("unknown"))

        var inapplicable = set
        try inapplicable.link(TemplateLink(templateID: "t", newID: "doc", values: [.principal: Self.uid("App::Doc", "d")]))
        let inapplicableResult = Self.validator.validate(inapplicable)
        #expect(inapplicableResult.errors.map(\.policyID) == ["doc"])
    }
}
