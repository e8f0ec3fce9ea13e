import Foundation
import Testing

@testable import CedarPolicy

@Suite("Formatter")
struct FormatterTests {
    /// Inputs and the output of Cedar's own formatter (`cedarpy.format_policies`, Cedar 4.12).
    static let cedarOutputs: [(String, String)] = [
        (
            #"""
            permit(principal,action,resource);
            """#,
            #"""
            permit (principal, action, resource);
            """#
        ),
        (
            #"""
            @id("x") @bare
            forbid(principal == User::"alice", action in [Action::"read", Action::"write"], resource is Photo in Album::"a") when { context.a == 1 && context["b c"] like "*x\*" && principal has a.b } unless { if principal.x then 1 + 2 * 3 else -4 };
            """#,
            #"""
            @id("x")
            @bare
            forbid (
              principal == User::"alice",
              action in [Action::"read", Action::"write"],
              resource is Photo in Album::"a"
            )
            when { context.a == 1 && context["b c"] like "*x\*" && principal has a.b }
            unless { if principal.x then 1 + 2 * 3 else -4 };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { context.veryLongAttributeNameNumberOne == "some long string value here" && context.veryLongAttributeNameNumberTwo == "another long string value" || context.three.contains(principal) };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              context.veryLongAttributeNameNumberOne == "some long string value here" &&
              context.veryLongAttributeNameNumberTwo == "another long string value" ||
              context.three.contains(principal)
            };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { context == {aaaaaaaaaaaaaa: "bbbbbbbbbbbbbbbbbbbbbbbbb", ccccccccccccccccc: "ddddddddddddddddddddd", e: {f: 1, g: [1,2]}} };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              context == {
                aaaaaaaaaaaaaa: "bbbbbbbbbbbbbbbbbbbbbbbbb",
                ccccccccccccccccc: "ddddddddddddddddddddd",
                e: { f: 1, g: [1, 2] }
              }
            };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { if context.aaaaaaaaaaaaaaaaaaaaaaaaaa then context.bbbbbbbbbbbbbbbbbbbbbbbbbbbb else context.cccccccccccccccccccccccccccc };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              if
                context.aaaaaaaaaaaaaaaaaaaaaaaaaa
              then
                context.bbbbbbbbbbbbbbbbbbbbbbbbbbbb
              else
                context.cccccccccccccccccccccccccccc
            };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { context.aaaaaaaaaaaaaaaaaaaaaaaaaa + context.bbbbbbbbbbbbbbbbbbbbbbbbbbbb + context.cccccccccccccccccccccccccccc > 5 };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              context.aaaaaaaaaaaaaaaaaaaaaaaaaa +
              context.bbbbbbbbbbbbbbbbbbbbbbbbbbbb +
              context.cccccccccccccccccccccccccccc > 5
            };
            """#
        ),
        (
            #"""
            permit(principal == User::"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", action, resource);
            """#,
            #"""
            permit (
              principal ==
                User::"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
              action,
              resource
            );
            """#
        ),
        (
            #"""
            permit(principal, action in [Action::"aaaaaaaaaaaaaaaaa", Action::"bbbbbbbbbbbbbbbbbbbbbb", Action::"cccccccccccccccccccccc"], resource);
            """#,
            #"""
            permit (
              principal,
              action in
                [Action::"aaaaaaaaaaaaaaaaa",
                 Action::"bbbbbbbbbbbbbbbbbbbbbb",
                 Action::"cccccccccccccccccccccc"],
              resource
            );
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { true } unless { false };
            """#,
            #"""
            permit (principal, action, resource)
            when { true }
            unless { false };
            """#
        ),
        (
            #"""
            permit(principal is User in ?principal, action, resource == ?resource);
            """#,
            #"""
            permit (
              principal is User in ?principal,
              action,
              resource == ?resource
            );
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { principal in [Group::"aaaaaaaaaaaaaaaaaaaaa", Group::"bbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Group::"ccccccccccccccccccccccccccccc"] };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              principal in [Group::"aaaaaaaaaaaaaaaaaaaaa",
               Group::"bbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
               Group::"ccccccccccccccccccccccccccccc"]
            };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { !context.a && -context.b == --1 && principal.tags.hasTag("x") && resource.getTag("y") == {} && [].isEmpty() };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              !context.a &&
              -context.b == --1 &&
              principal.tags.hasTag("x") &&
              resource.getTag("y") == {} &&
              [].isEmpty()
            };
            """#
        ),
        (
            #"""
            permit(principal, action, resource) when { context.x.y.z has a.b.c && decimal("1.5").lessThan(decimal("2.0")) && ip("10.0.0.1").isInRange(ip("10.0.0.0/8")) };
            """#,
            #"""
            permit (principal, action, resource)
            when
            {
              context.x.y.z has a.b.c &&
              decimal("1.5").lessThan(decimal("2.0")) &&
              ip("10.0.0.1").isInRange(ip("10.0.0.0/8"))
            };
            """#
        ),
    ]

    @Test("output matches Cedar's formatter for common policies", arguments: cedarOutputs)
    func matchesCedar(_ input: String, _ expected: String) throws {
        let formatted = try CedarFormatter.format(input)
        #expect(formatted == expected + "\n")
        #expect(try CedarFormatter.format(formatted) == formatted)
        #expect(try CedarParser.parsePolicies(formatted) == CedarParser.parsePolicies(input))
    }

    @Test("comments before, between and inside policies are kept near where they were")
    func comments() throws {
        let input = """
            // File header
            // second line

            // Policy one
            @id("one") // after annotation
            permit(
              principal == User::"alice", // who
              action,
              resource
            ) // after scope
            // before when
            when {
              // inside when
              context.a == 1
            } // after when
            unless { false }
            ; // after semicolon
            // between
            forbid(principal, action, resource);

            // footer
            """
        let expected = """
            // File header
            // second line

            // Policy one
            // after annotation
            // who
            @id("one")
            permit (
              principal == User::"alice",
              action,
              resource
            ) // after scope
            // before when
            // inside when
            when { context.a == 1 } // after when
            unless { false }; // after semicolon

            // between
            forbid (principal, action, resource);

            // footer

            """
        let formatted = try CedarFormatter.format(input)
        #expect(formatted == expected)
        #expect(try CedarFormatter.format(formatted) == formatted)
        let lost = input.split(separator: "\n").compactMap { line -> Substring? in
            guard let range = line.range(of: "//") else { return nil }
            return line[range.lowerBound...]
        }.filter { !formatted.contains($0) }
        #expect(lost.isEmpty, "comments lost: \(lost)")
    }

    @Test("comment-only and empty text")
    func commentOnly() throws {
        #expect(try CedarFormatter.format("") == "")
        #expect(try CedarFormatter.format("  \n") == "")
        #expect(try CedarFormatter.format("// a\n\n// b\n") == "// a\n\n// b\n")
    }

    @Test("formatting invalid text reports the syntax error")
    func invalid() {
        #expect(throws: CedarError(.syntax, "")) { try CedarFormatter.format("permit(principal, action, resource) when { 1 + };") }
    }

    private static func e(_ kind: Expr.Kind) -> Expr { Expr(kind) }
    private static func lit(_ v: Int64) -> Expr { Expr(.literal(.long(v))) }
    private static let ctx = Expr(.variable(.context))

    /// ASTs (some not producible from text as written) and how they print; each must reparse to itself.
    static let expressions: [(Expr, String)] = [
        (e(.negate(lit(5))), "-(5)"),
        (e(.negate(lit(-5))), "--5"),
        (e(.negate(e(.negate(e(.negate(e(.negate(lit(-5))))))))), "----(-5)"),
        (e(.negate(e(.negate(e(.negate(e(.negate(e(.negate(ctx)))))))))), "----(-context)"),
        (e(.not(lit(-5))), "!(-5)"),
        (e(.not(e(.negate(ctx)))), "!(-context)"),
        (e(.negate(e(.not(ctx)))), "-(!context)"),
        (lit(Int64.min), "-9223372036854775808"),
        (e(.getAttr(lit(-1), "a")), "(-1).a"),
        (e(.getAttr(lit(1), "a")), "1.a"),
        (e(.binary(.sub, lit(1), e(.binary(.sub, lit(2), lit(3))))), "1 - (2 - 3)"),
        (e(.binary(.sub, e(.binary(.sub, lit(1), lit(2))), lit(3))), "1 - 2 - 3"),
        (e(.binary(.mul, e(.binary(.add, lit(1), lit(2))), lit(3))), "(1 + 2) * 3"),
        (e(.binary(.eq, e(.binary(.eq, lit(1), lit(2))), lit(3))), "(1 == 2) == 3"),
        (e(.or(ctx, e(.or(ctx, ctx)))), "context || (context || context)"),
        (e(.and(e(.or(ctx, ctx)), ctx)), "(context || context) && context"),
        (e(.or(e(.ifThenElse(ctx, ctx, ctx)), ctx)), "(if context then context else context) || context"),
        (e(.getAttr(e(.ifThenElse(ctx, ctx, ctx)), "a")), "(if context then context else context).a"),
        (e(.hasAttr(e(.hasAttr(ctx, "a")), "b")), "(context has a) has b"),
        (e(.hasAttr(ctx, "if")), "context has \"if\""),
        (e(.getAttr(ctx, "a b")), "context[\"a b\"]"),
        (e(.getAttr(ctx, "in")), "context[\"in\"]"),
        (e(.isType(e(.isType(ctx, EntityType(unchecked: "A"), in: nil)), EntityType(unchecked: "B"), in: ctx)), "(context is A) is B in context"),
        (e(.like(ctx, Pattern([.literal("*"), .wildcard, .literal("\""), .literal("\n")]))), "context like \"\\**\\\"\\n\""),
        (e(.record([RecordEntry(key: "if", value: lit(1)), RecordEntry(key: "a", value: lit(2))])), "{ \"if\": 1, a: 2 }"),
        (e(.and(e(.hasAttr(ctx, "a")), e(.hasAttr(e(.getAttr(ctx, "a")), "b")))), "context has a.b"),
        (e(.and(e(.hasAttr(ctx, "a")), e(.hasAttr(e(.getAttr(ctx, "x")), "b")))), "context has a && context.x has b"),
        (e(.and(ctx, e(.and(e(.hasAttr(ctx, "a")), e(.hasAttr(e(.getAttr(ctx, "a")), "b")))))), "context && context has a.b"),
        (e(.call(.isIpv4, [e(.call(.ip, [Expr(.literal(.string("::1")))]))])), "ip(\"::1\").isIpv4()"),
        (e(.slot(.principal)), "?principal"),
    ]

    @Test("expressions print with the parentheses and literal forms their AST needs", arguments: expressions)
    func expression(_ expr: Expr, _ text: String) throws {
        #expect(CedarFormatter.format(expr) == text)
        #expect(try CedarParser.parseExpression(text) == expr)
    }

    @Test("a single policy formats without a trailing newline; bare annotations stay bare")
    func singlePolicy() throws {
        let policy = try CedarParser.parsePolicy(#"@a @b("") @c("x") permit(principal, action, resource) when { true };"#)
        #expect(CedarFormatter.format(policy) == "@a\n@b\n@c(\"x\")\npermit (principal, action, resource)\nwhen { true };")
        #expect(
            try CedarFormatter.format(#"@a @b("") permit(principal, action, resource);"#) == "@a\n@b(\"\")\npermit (principal, action, resource);\n")
    }

    @Test("extension values print as the constructor call that rebuilds them")
    func extensionValues() throws {
        let values: [ExtensionValue] = [
            .decimal(try CedarDecimal(parsing: "-1.25")), .ipaddr(try IPAddr(parsing: "10.0.0.0/8")),
            .ipaddr(try IPAddr(parsing: "::1")), .datetime(try CedarDatetime(parsing: "2024-10-15T11:35:00Z")),
            .duration(try CedarDuration(parsing: "1d2h3m4s5ms")),
        ]
        for value in values {
            let text = CedarFormatter.format(Expr(.literal(.ext(value))))
            let parsed = try CedarParser.parseExpression(text)
            guard case .call(let function, let args) = parsed.kind, args.count == 1,
                case .literal(.string(let argument)) = args[0].kind
            else {
                Issue.record("\(text) is not an extension constructor call")
                continue
            }
            let rebuilt: ExtensionValue? =
                switch function {
                case .decimal: .decimal(try CedarDecimal(parsing: argument))
                case .ip: .ipaddr(try IPAddr(parsing: argument))
                case .datetime: .datetime(try CedarDatetime(parsing: argument))
                case .duration: .duration(try CedarDuration(parsing: argument))
                default: nil
                }
            #expect(rebuilt == value, "\(text)")
        }
    }
}
