import Testing

@testable import CedarPolicy

/// Policies with very many `when`/`unless` clauses (review finding F2): the parser, the policy
/// JSON reader and writer, the formatter and the validator walk the clause list iteratively, and
/// the text and JSON readers bound the clauses per policy at ``CedarParser/maxConditionsPerPolicy``.
/// Runs on the default test thread.
@Suite("Many conditions per policy")
struct ManyConditionsTests {
    static let schemaText = """
        entity U;
        action a appliesTo { principal: U, resource: U, context: { a: Bool } };
        """

    /// `permit(principal, action, resource)` with `n` clauses, alternating `when { context.a }`
    /// and `unless { !context.a }`.
    static func policyText(clauses n: Int) -> String {
        var text = "permit(principal, action, resource)\n"
        text.reserveCapacity(n * 24 + 64)
        for i in 0..<n { text += i % 2 == 0 ? " when { context.a }" : " unless { !context.a }" }
        return text + ";\n"
    }

    static let u = EntityUID(type: EntityType(unchecked: "U"), id: "u")
    static let action = EntityUID(type: EntityType(unchecked: "Action"), id: "a")

    static func decide(_ set: PolicySet, _ a: Bool) -> Decision {
        let request = Request(principal: Self.u, action: Self.action, resource: Self.u, context: ["a": .bool(a)])
        return Authorizer(set).isAuthorized(request, entities: Entities()).decision
    }

    @Test("a policy at the clause limit parses, validates, formats, round-trips through JSON and authorizes")
    func atLimit() throws {
        let n = CedarParser.maxConditionsPerPolicy
        let text = Self.policyText(clauses: n)
        let set = try PolicySet(parsing: text)
        #expect(set.staticPolicies.first?.conditions.count == n)
        let result = Validator(schema: try Schema(parsingCedar: Self.schemaText)).validate(set)
        #expect(result.errors.isEmpty)
        #expect(result.warnings.isEmpty)
        let formatted = try CedarFormatter.format(text)
        #expect(try PolicySet(parsing: formatted).staticPolicies == set.staticPolicies)
        let back = try PolicySet(json: try JSONValue(parsing: set.json.serialized()))
        #expect(back.staticPolicies.first?.conditions == set.staticPolicies.first?.conditions)
        #expect(Self.decide(set, true) == .allow)
        #expect(Self.decide(set, false) == .deny)
    }

    @Test("one clause over the limit is limitExceeded, in policy text and in policy JSON")
    func overLimit() throws {
        let n = CedarParser.maxConditionsPerPolicy + 1
        #expect(throws: CedarError(.limitExceeded, "")) { try PolicySet(parsing: Self.policyText(clauses: n)) }
        let clause: JSONValue = ["kind": "when", "body": ["Value": true]]
        let policy: JSONValue = [
            "effect": "permit", "principal": ["op": "All"], "action": ["op": "All"], "resource": ["op": "All"],
            "conditions": .array(Array(repeating: clause, count: n)),
        ]
        #expect(throws: CedarError(.limitExceeded, "")) { try Policy(json: policy, id: "p") }
        // The location points at the first clause over the limit.
        let error = #expect(throws: CedarError.self) { try CedarParser.parsePolicies(Self.policyText(clauses: n)) }
        #expect(error?.location?.line == 2)
        // Clause k (0-based) starts after k/2 pairs of 19 + 22 characters and its leading space.
        let k = n - 1
        #expect(error?.location?.column == k / 2 * 41 + k % 2 * 19 + 2)
    }

    @Test("the validator, formatter and JSON writer take 200,000 clauses built in code")
    func codeBuilt() throws {
        let clause = Condition(kind: .when, body: Expr(.getAttr(Expr(.variable(.context)), "a")))
        let policy = Policy(
            id: "p", annotations: [], effect: .permit, principal: .any, action: .any, resource: .any,
            conditions: Array(repeating: clause, count: 200_000))
        let set = try PolicySet(policies: [policy])
        let result = Validator(schema: try Schema(parsingCedar: Self.schemaText)).validate(set)
        #expect(result.errors.isEmpty)
        let formatted = CedarFormatter.format(policy)
        #expect(formatted.utf8.count > 200_000 * 10)
        let json = policy.json.serialized()
        #expect(json.utf8.count > 200_000 * 10)
        // An unsatisfiable clause anywhere in the chain still makes the policy impossible.
        var conditions = policy.conditions
        conditions[150_000] = Condition(kind: .when, body: Expr(.literal(.bool(false))))
        let impossible = Policy(
            id: "p", annotations: [], effect: .permit, principal: .any, action: .any, resource: .any, conditions: conditions)
        let r2 = Validator(schema: try Schema(parsingCedar: Self.schemaText)).validate(try PolicySet(policies: [impossible]))
        #expect(r2.warnings.count == 1)
    }
}
