import Testing

@testable import CedarPolicy

/// Shorthands for building expected ASTs.
private func lit(_ v: Int64) -> Expr { Expr(.literal(.long(v))) }
private func str(_ s: String) -> Expr { Expr(.literal(.string(s))) }
private func bool(_ b: Bool) -> Expr { Expr(.literal(.bool(b))) }
private func v(_ variable: Variable) -> Expr { Expr(.variable(variable)) }
private func uid(_ type: String, _ id: String) -> EntityUID { EntityUID(type: EntityType(unchecked: type), id: id) }
private func entity(_ type: String, _ id: String) -> Expr { Expr(.literal(.entity(uid(type, id)))) }
private func bin(_ op: BinaryOp, _ l: Expr, _ r: Expr) -> Expr { Expr(.binary(op, l, r)) }
private func and(_ l: Expr, _ r: Expr) -> Expr { Expr(.and(l, r)) }
private func or(_ l: Expr, _ r: Expr) -> Expr { Expr(.or(l, r)) }
private func attr(_ e: Expr, _ a: String) -> Expr { Expr(.getAttr(e, a)) }
private func has(_ e: Expr, _ a: String) -> Expr { Expr(.hasAttr(e, a)) }
private func neg(_ e: Expr) -> Expr { Expr(.negate(e)) }
private func not(_ e: Expr) -> Expr { Expr(.not(e)) }

@Suite("Parser: expressions")
struct ParserExpressionTests {
    static let shapes: [(String, Expr)] = [
        ("1 + 2 * 3 - -4 < 5", bin(.lt, bin(.sub, bin(.add, lit(1), bin(.mul, lit(2), lit(3))), lit(-4)), lit(5))),
        ("true || false && true", or(bool(true), and(bool(false), bool(true)))),
        ("A::B::\"x\" in A::\"y\"", bin(.in, entity("A::B", "x"), entity("A", "y"))),
        ("-9223372036854775808", lit(Int64.min)),
        ("--9223372036854775808", neg(lit(Int64.min))),
        ("-5", lit(-5)),
        ("--5", neg(lit(-5))),
        ("-(5)", neg(lit(5))),
        ("-5.foo", neg(attr(lit(5), "foo"))),
        ("!!true", not(not(bool(true)))),
        ("007", lit(7)),
        (
            "context has a.b.c",
            and(and(has(v(.context), "a"), has(attr(v(.context), "a"), "b")), has(attr(attr(v(.context), "a"), "b"), "c"))
        ),
        ("context has \"a b\"", has(v(.context), "a b")),
        ("context has principal", has(v(.context), "principal")),
        ("principal[\"if\"]", attr(v(.principal), "if")),
        ("principal.contains", attr(v(.principal), "contains")),
        ("[1, 2,].contains(1,)", bin(.contains, Expr(.set([lit(1), lit(2)])), lit(1))),
        ("{a: 1, \"b c\": 2,}", Expr(.record([RecordEntry(key: "a", value: lit(1)), RecordEntry(key: "b c", value: lit(2))]))),
        ("context.a.isEmpty()", Expr(.isEmpty(attr(v(.context), "a")))),
        ("principal.getTag(\"a\")", bin(.getTag, v(.principal), str("a"))),
        ("principal.hasTag(\"a\")", bin(.hasTag, v(.principal), str("a"))),
        (
            "ip(\"1.2.3.4\").isInRange(ip(\"1.0.0.0/8\"))",
            Expr(.call(.isInRange, [Expr(.call(.ip, [str("1.2.3.4")])), Expr(.call(.ip, [str("1.0.0.0/8")]))]))
        ),
        (
            "decimal(\"1.0\").lessThan(decimal(\"2.0\"),)",
            Expr(.call(.lessThan, [Expr(.call(.decimal, [str("1.0")])), Expr(.call(.decimal, [str("2.0")]))]))
        ),
        (
            "datetime(\"2024-01-01\").offset(duration(\"1h\"))",
            Expr(.call(.offset, [Expr(.call(.datetime, [str("2024-01-01")])), Expr(.call(.duration, [str("1h")]))]))
        ),
        // Cedar checks extension-call arity when evaluating, not when parsing.
        ("ip(\"1.1.1.1\").isInRange()", Expr(.call(.isInRange, [Expr(.call(.ip, [str("1.1.1.1")]))]))),
        ("principal is User", Expr(.isType(v(.principal), EntityType(unchecked: "User"), in: nil))),
        (
            "principal is A::User in Group::\"g\"",
            Expr(.isType(v(.principal), EntityType(unchecked: "A::User"), in: entity("Group", "g")))
        ),
        (
            "principal is User in [Group::\"g\"]",
            Expr(.isType(v(.principal), EntityType(unchecked: "User"), in: Expr(.set([entity("Group", "g")]))))
        ),
        ("if true then 1 else 2 || false", Expr(.ifThenElse(bool(true), lit(1), or(lit(2), bool(false))))),
        ("1 + 2 has a", has(bin(.add, lit(1), lit(2)), "a")),
        (
            "\"ab\" like \"a\\*b*\"",
            Expr(.like(str("ab"), Pattern([.literal("a"), .literal("*"), .literal("b"), .wildcard])))
        ),
        ("principal == User :: \"a\"", bin(.eq, v(.principal), entity("User", "a"))),
        ("principal == principal::\"a\"", bin(.eq, v(.principal), entity("principal", "a"))),
        ("\"\\x41\\u{1F600}\\0\\'\\\"\\n\\r\\t\\\\\"", str("A\u{1F600}\0'\"\n\r\t\\")),
        ("?principal == ?resource", bin(.eq, Expr(.slot(.principal)), Expr(.slot(.resource)))),
    ]

    @Test("expressions parse to Cedar's AST", arguments: shapes)
    func shape(_ text: String, _ expected: Expr) throws {
        #expect(try CedarParser.parseExpression(text) == expected)
    }

    /// Texts Cedar 4.12 rejects (checked with cedarpy), each inside a `when` clause.
    static let rejected: [String] = [
        "1 == 2 == 3", "1 < 2 < 3", "principal is User == true", "principal is User in Group::\"a\" == true",
        "context has if", "context.if", "{if: 1}", "{a: 1, a: 2}", "{\"a\": 1, a: 2}", "context has a.if",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "!!!!!true", "-----5", "!-5", "-!true",
        "a", "decimal", "foo(\"1\")", "context.foo()", "context.decimal(\"1\")", "context.isEmpty(1)",
        "principal.contains()", "principal.contains(1, 2)", "User::decimal(\"a\")", "__cedar::ip(\"1.2.3.4\")",
        "__cedar::X::\"a\"", "principal is __cedar", "principal is A::__cedar", "context.__cedar", "{__cedar: 1}",
        "\"\\x80\"", "\"\\q\"", "\"a\\*\"", "\"\\u{D800}\"", "\"\\u{110000}\"", "\"\\u{}\"", "\"\\u{0000041}\"",
        "\"\\u0041\"", "\"\\x4\"", "\"a\" like \"\\q\"", "principal is User::\"a\"", "1 has a has b",
        "principal has a.b == true", "principal has \"a\".b", "principal has a[\"b\"]", "principal has (a)",
        "principal like \"a\" like \"b\"", "[][0]", "context[1]", "context[context]", "{,}", "[,]", "true && if true then 1 else 2",
        "principal == if::\"a\"", "principal == Action::\"a\"::\"b\"", "?principal", "?foo", "? principal", "1 + ", "",
        "principal.", "principal[", "\"abc", "true & true", "true | true", "true = true", "1 ≠ 2", "principal.é",
        "principal == 用户::\"a\"", "'a'", "1.0", "context has a + 1", "context like \"a\" + 1", "TRUE",
    ]

    @Test("text Cedar rejects is a syntax error", arguments: rejected)
    func rejects(_ body: String) {
        #expect(throws: CedarError(.syntax, "")) {
            try CedarParser.parsePolicies("permit(principal, action, resource) when { \(body) };")
        }
    }
}

@Suite("Parser: policies")
struct ParserPolicyTests {
    @Test("scopes, annotations and conditions parse")
    func fullPolicy() throws {
        let text = """
            @id("p1") @bare
            permit(principal == User::"alice", action in [Action::"read", NS::Action::"write",], resource is Photo in Album::"a")
            when { context.a == 1 }
            unless { false };
            forbid(principal in Group::"g", action == Action::"x", resource is Photo,);
            """
        let policies = try CedarParser.parsePolicies(text)
        #expect(policies.count == 2)
        let p = policies[0]
        #expect(p.id == "policy0")
        #expect(p.annotations == [Annotation(key: "id", value: "p1"), Annotation(key: "bare", value: "")])
        #expect(p.effect == .permit)
        #expect(p.principal == .eq(.uid(uid("User", "alice"))))
        #expect(p.action == .inSet([uid("Action", "read"), uid("NS::Action", "write")]))
        #expect(p.resource == .isIn(EntityType(unchecked: "Photo"), .uid(uid("Album", "a"))))
        #expect(
            p.conditions == [
                Condition(kind: .when, body: bin(.eq, attr(v(.context), "a"), lit(1))), Condition(kind: .unless, body: bool(false)),
            ])
        let q = policies[1]
        #expect(q.id == "policy1")
        #expect(q.effect == .forbid)
        #expect(q.principal == .in(.uid(uid("Group", "g"))))
        #expect(q.action == .eq(uid("Action", "x")))
        #expect(q.resource == .is(EntityType(unchecked: "Photo")))
    }

    @Test("templates use slots in their own positions and go to the template list")
    func templates() throws {
        let text = """
            permit(principal == ?principal, action, resource in ?resource);
            permit(principal is User in ?principal, action, resource);
            permit(principal, action, resource);
            """
        let set = try PolicySet(parsing: text)
        #expect(set.templates.map(\.id) == ["policy0", "policy1"])
        #expect(set.staticPolicies.map(\.id) == ["policy2"])
        #expect(set.templates[0].slots == [.principal, .resource])
        #expect(set.templates[1].principal == .isIn(EntityType(unchecked: "User"), .slot(.principal)))
    }

    @Test("empty text and comment-only text are empty policy sets")
    func empty() throws {
        #expect(try CedarParser.parsePolicies("").isEmpty)
        #expect(try CedarParser.parsePolicies("  // nothing here\n\n// still nothing").isEmpty)
    }

    @Test("comments end at a line feed or carriage return; any Unicode white space separates tokens")
    func trivia() throws {
        let text = "permit(principal,\u{A0}action,\u{2028}resource);\r\n//x\rpermit(principal,action, resource);// end"
        #expect(try CedarParser.parsePolicies(text).count == 2)
    }

    /// Policies Cedar 4.12 rejects (checked with cedarpy).
    static let rejected: [String] = [
        "permit(principal in [User::\"a\"], action, resource);",
        "permit(principal, action is Action, resource);",
        "permit(principal == ?resource, action, resource);",
        "permit(principal, action, resource == ?principal);",
        "permit(principal, action == ?principal, resource);",
        "permit(principal, action, resource) when {};",
        "permit(principal, action, resource) unless {};",
        "permit(principal, action, resource)",
        "permit(principal, action, resource) when { true }",
        "permit(principal, action, resource) when { principal == ?principal };",
        "permit(principal, action, resource) foo { true };",
        "permit(principal, action == User::\"a\", resource);",
        "permit(principal, action in [Action::\"a\", User::\"b\"], resource);",
        "permit(action, principal, resource);",
        "permit(principal, action);",
        "permit();",
        "deny(principal, action, resource);",
        "PERMIT(principal, action, resource);",
        "permit(principal is if, action, resource);",
        "permit(principal is User::\"a\", action, resource);",
        "permit(principal: User, action, resource);",
        "permit(principal == User::\"a\" in Group::\"b\", action, resource);",
        "permit(principal is User is User, action, resource);",
        "permit(principal == User, action, resource);",
        "permit(principal, action, resource,,);",
        "permit(principal, action, resource, context);",
        "@a(\"x\") @a(\"y\") permit(principal, action, resource);",
        "@a() permit(principal, action, resource);",
        "@a(1) permit(principal, action, resource);",
        "@a permit(principal, action, resource) when { true } when ;",
        "permit(principal, action, resource);;",
    ]

    @Test("policies Cedar rejects are syntax errors", arguments: rejected)
    func rejects(_ text: String) {
        #expect(throws: CedarError(.syntax, "")) { try CedarParser.parsePolicies(text) }
    }

    @Test("accepted edge cases: reserved words as annotation keys, parenthesised scope entities, empty action list")
    func accepted() throws {
        let text = """
            @if("x") @permit @true("y") @__cedar("z") permit(principal == (User::"a"), action in ([Action::"a"]), resource);
            permit(principal is principal, action in [], resource is User::principal);
            """
        let policies = try CedarParser.parsePolicies(text)
        #expect(policies[0].annotations.map(\.key) == ["if", "permit", "true", "__cedar"])
        #expect(policies[0].principal == .eq(.uid(uid("User", "a"))))
        #expect(policies[1].action == .inSet([]))
        #expect(policies[1].resource == .is(EntityType(unchecked: "User::principal")))
    }
}

@Suite("Parser: names and entry points")
struct ParserNameTests {
    @Test("entity types and uids validate their names")
    func names() throws {
        #expect(try CedarParser.parseEntityType("A::B").name == "A::B")
        #expect(try CedarParser.parseEntityType(" User ").name == "User")
        #expect(try CedarParser.parseEntityUID("A::B::\"x\\ny\"") == uid("A::B", "x\ny"))
        for bad in ["", "A::", "::A", "A::\"x\"", "1A", "A B", "if", "A::in", "__cedar::A", "A-B"] {
            #expect(throws: CedarError.self) { try CedarParser.parseEntityType(bad) }
        }
        for bad in ["A", "A::B", "\"x\"", "A::\"x\" extra", "A::\"x"] {
            #expect(throws: CedarError.self) { try CedarParser.parseEntityUID(bad) }
        }
    }

    @Test(
        "identifier validity",
        arguments: [
            ("a", true), ("_", true), ("A_b9", true), ("principal", true), ("permit", true), ("9a", false), ("", false),
            ("a-b", false), ("if", false), ("in", false), ("true", false), ("has", false), ("__cedar", false), ("é", false),
        ])
    func identifiers(_ text: String, _ valid: Bool) {
        #expect(CedarParser.isValidIdentifier(text) == valid)
    }

    @Test("parsePolicy parses exactly one policy")
    func single() throws {
        #expect(try CedarParser.parsePolicy("permit(principal, action, resource);", id: "x").id == "x")
        #expect(throws: CedarError.self) {
            try CedarParser.parsePolicy("permit(principal, action, resource); permit(principal, action, resource);")
        }
    }

    @Test("locations point at each policy and expression")
    func locations() throws {
        let text = "permit(principal, action, resource);\n  @a forbid(principal, action, resource)\n  when { 1 + context.a };"
        let policies = try CedarParser.parsePolicies(text)
        #expect(policies[0].location == SourceLocation(offset: 0, line: 1, column: 1))
        #expect(policies[1].location == SourceLocation(offset: 39, line: 2, column: 3))
        let body = policies[1].conditions[0].body
        #expect(body.location.line == 3)
        #expect(body.location.column == 10)
        guard case .binary(.add, let lhs, _) = body.kind else {
            Issue.record("expected an addition")
            return
        }
        #expect(lhs.location.column == 10)
        let expr = try CedarParser.parseExpression("\"é\" == context.b")
        guard case .binary(.eq, _, let rhs) = expr.kind else {
            Issue.record("expected ==")
            return
        }
        // Columns count Unicode scalars; offsets count UTF-8 bytes.
        #expect(rhs.location.column == 8)
        #expect(rhs.location.offset == 8)
    }
}
