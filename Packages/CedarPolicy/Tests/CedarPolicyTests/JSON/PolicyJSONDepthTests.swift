import Testing

@testable import CedarPolicy

/// The policy JSON reader's depth limit agrees with the text parser's, and every policy the text
/// parser accepts is written to JSON that our own JSON reader reads back (review finding F7).
@Suite("Policy JSON: depth limits")
struct PolicyJSONDepthTests {
    static let n = CedarParser.maxExpressionDepth

    /// Expressions exactly `maxExpressionDepth` nodes tall, one per shape, with the leaves that
    /// take the most JSON nesting (entity literals, extension calls, `like` patterns).
    static let atLimit: [String] = [
        String(repeating: "(", count: n - 1) + "1" + String(repeating: ")", count: n - 1),
        String(repeating: "[", count: n - 1) + "A::\"a\"" + String(repeating: "]", count: n - 1),
        String(repeating: "{a: ", count: n - 1) + "A::\"a\"" + String(repeating: "}", count: n - 1),
        String(repeating: "!(", count: n - 2) + "A::\"a\" == A::\"b\"" + String(repeating: ")", count: n - 2),
        String(repeating: "-(", count: n - 3) + "decimal(\"1.0\").lessThan(decimal(\"2.0\"))" + String(repeating: ")", count: n - 3),
        String(repeating: "[", count: n - 3) + "ip(\"1.2.3.4\").isIpv4()" + String(repeating: "]", count: n - 3),
        String(repeating: "if true then ", count: n - 2) + "(context like \"a*b\")" + String(repeating: " else false", count: n - 2),
        String(repeating: "[", count: n - 2) + "principal is A in A::\"a\"" + String(repeating: "]", count: n - 2),
        Array(repeating: "A::\"a\" == A::\"b\"", count: n - 1).joined(separator: " || "),
        Array(repeating: "1", count: n).joined(separator: " + "),
        "context." + Array(repeating: "a", count: n - 1).joined(separator: "."),
        String(repeating: "context.getTag(", count: n - 1) + "\"t\"" + String(repeating: ")", count: n - 1),
    ]

    /// The nesting of arrays and objects in `json`, as `JSONValue(parsing:)` counts it.
    static func nesting(_ json: JSONValue) -> Int {
        switch json {
        case .array(let items): return 1 + (items.map(Self.nesting).max() ?? 0)
        case .object(let o): return 1 + (o.map { Self.nesting($0.1) }.max() ?? 0)
        default: return 0
        }
    }

    @Test("the limit shapes are at the parser's limit: one more level is rejected", arguments: Self.atLimit.indices)
    func shapesAreAtTheLimit(_ i: Int) throws {
        let body = Self.atLimit[i]
        #expect(throws: Never.self) { try CedarParser.parseExpression(body) }
        // Wrapping any of them once more goes over.
        #expect(throws: CedarError(.limitExceeded, "")) { try CedarParser.parseExpression("[\(body)]") }
    }

    @Test("a policy set at the depth limit round-trips through serialized JSON and our JSON reader", arguments: Self.atLimit.indices)
    func roundTripAtLimit(_ i: Int) throws {
        let text = """
            permit(principal, action, resource) when { \(Self.atLimit[i]) };
            @id("t") permit(principal == ?principal, action, resource) unless { \(Self.atLimit[i]) };
            """
        let set = try PolicySet(parsing: text)
        let json = set.json
        #expect(Self.nesting(json) <= JSONValue.Limits.default.maxDepth)
        #expect(Self.nesting(json) <= 2 * Self.n + 6)
        let back = try PolicySet(json: try JSONValue(parsing: json.serialized()))
        #expect(back.staticPolicies == set.staticPolicies)
        #expect(back.templates == set.templates)
    }

    @Test("the validator takes every shape at the depth limit (type errors are fine)", arguments: Self.atLimit.indices)
    func validateAtLimit(_ i: Int) throws {
        let schema = try Schema(parsingCedar: "entity A { a?: A } tags Long; action a appliesTo { principal: A, resource: A, context: { a?: A } };")
        let set = try PolicySet(parsing: "permit(principal, action, resource) when { \(Self.atLimit[i]) };")
        let result = Validator(schema: schema).validate(set)
        // Shapes that cannot typecheck report one error for the policy; none crashes.
        #expect(result.errors.count <= 1)
    }

    @Test("Expr(json:) accepts exactly maxExpressionDepth levels, as the parser does")
    func readerLimitMatchesParser() throws {
        // `neg` chains: n nodes accepted, n + 1 rejected.
        var e: JSONValue = ["Value": 1]
        for _ in 0..<(Self.n - 1) { e = ["neg": ["arg": e]] }
        #expect(throws: Never.self) { try Expr(json: e) }
        #expect(throws: CedarError(.limitExceeded, "")) { try Expr(json: ["neg": ["arg": e]]) }
        // Sets inside `{"Value": …}` count the same way.
        var v: JSONValue = 1
        for _ in 0..<(Self.n - 1) { v = [v] }
        #expect(throws: Never.self) { try Expr(json: ["Value": v]) }
        #expect(throws: CedarError(.limitExceeded, "")) { try Expr(json: ["Value": [v]]) }
        // A `Value` set under operators: n - 2 operators over a 2-level set literal.
        var mixed: JSONValue = ["Value": [1]]
        for _ in 0..<(Self.n - 2) { mixed = ["!": ["arg": mixed]] }
        #expect(throws: Never.self) { try Expr(json: mixed) }
        #expect(throws: CedarError(.limitExceeded, "")) { try Expr(json: ["!": ["arg": mixed]]) }
        // The text parser agrees on the same trees.
        func nots(_ k: Int) -> String { String(repeating: "!(", count: k) + "[1]" + String(repeating: ")", count: k) }
        #expect(try Expr(json: mixed) == CedarParser.parseExpression(nots(Self.n - 2)))
        #expect(throws: CedarError(.limitExceeded, "")) { try CedarParser.parseExpression(nots(Self.n - 1)) }
    }
}
