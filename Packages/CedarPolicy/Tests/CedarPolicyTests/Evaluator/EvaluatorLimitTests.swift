import CedarPolicy
import Testing

/// Expressions built in code can nest deeper than the parsers allow; the evaluator must answer with
/// an error rather than exhaust the stack.
@Suite("Evaluator: nesting limits")
struct EvaluatorLimitTests {
    static let shapes: [(String, @Sendable (Expr) -> Expr, Expr)] = [
        ("&&", { E.and(E.bool(true), $0) }, E.bool(true)),
        ("||", { E.or($0, E.bool(false)) }, E.bool(true)),
        ("!", { E.not(E.not($0)) }, E.bool(true)),
        ("+", { E.bin(.add, $0, E.long(0)) }, E.long(1)),
        ("==", { E.eq($0, E.bool(true)) }, E.bool(true)),
        ("if", { E.ite(E.bool(true), $0, E.bool(false)) }, E.bool(true)),
        ("record.a", { E.attr(E.record([("a", $0)]), "a") }, E.bool(true)),
    ]

    static func nest(_ wrap: (Expr) -> Expr, _ leaf: Expr, _ depth: Int) -> Expr {
        var e = leaf
        for _ in 0..<depth { e = wrap(e) }
        return e
    }

    @Test("128 levels (the parsers' limit) evaluate normally", arguments: shapes.map { ($0.0, $0.1, $0.2) })
    func withinLimit(_ name: String, _ wrap: @Sendable (Expr) -> Expr, _ leaf: Expr) throws {
        let e = Self.nest(wrap, leaf, 128)
        _ = try Evaluator(request: Fixture.request, entities: Fixture.entities).evaluate(e)
    }

    @Test("5,000 levels are a limitExceeded error, not a crash", arguments: shapes.map { ($0.0, $0.1, $0.2) })
    func beyondLimit(_ name: String, _ wrap: @Sendable (Expr) -> Expr, _ leaf: Expr) {
        let e = Self.nest(wrap, leaf, 5000)
        #expect(throws: CedarError(.limitExceeded, "")) { try Evaluator(request: Fixture.request, entities: Fixture.entities).evaluate(e) }
    }

    @Test("a too-deep policy condition is reported as that policy's error")
    func authorizer() throws {
        let deep = Self.nest({ E.and(E.bool(true), $0) }, E.bool(true), 5000)
        let set = try PolicySet(policies: [P.policy("deep", .permit, when: [deep]), P.policy("ok", .permit)])
        let r = Authorizer(set).isAuthorized(Fixture.request, entities: Fixture.entities)
        #expect(r.decision == .allow)
        #expect(r.reason == ["ok"])
        #expect(r.errors.map(\.policyID) == ["deep"])
        #expect(r.errors.first?.error.code == .limitExceeded)
    }
}
