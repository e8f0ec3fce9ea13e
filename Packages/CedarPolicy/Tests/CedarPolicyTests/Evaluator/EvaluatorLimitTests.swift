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

    /// `&&` and `||` chains are flattened, so their length is not depth (see ``chains``).
    static let deepShapes = shapes.filter { $0.0 != "&&" && $0.0 != "||" }

    @Test("5,000 levels are a limitExceeded error, not a crash", arguments: deepShapes.map { ($0.0, $0.1, $0.2) })
    func beyondLimit(_ name: String, _ wrap: @Sendable (Expr) -> Expr, _ leaf: Expr) {
        let e = Self.nest(wrap, leaf, 5000)
        #expect(throws: CedarError(.limitExceeded, "")) { try Evaluator(request: Fixture.request, entities: Fixture.entities).evaluate(e) }
    }

    @Test("5,000-operand && and || chains, nested either way, evaluate in order", arguments: [true, false])
    func chains(_ leftNested: Bool) throws {
        let eval = Evaluator(request: Fixture.request, entities: Fixture.entities)
        let n = E.eq(E.attr(E.context, "n"), E.long(1))  // true, not a constant
        let and = Self.nest({ leftNested ? E.and($0, n) : E.and(n, $0) }, n, 5000)
        #expect(try eval.evaluate(and) == .bool(true))
        let or = Self.nest({ leftNested ? E.or($0, E.not(n)) : E.or(E.not(n), $0) }, E.not(n), 5000)
        #expect(try eval.evaluate(or) == .bool(false))
        // The first false (true) operand decides; a later erroring operand is not evaluated.
        let missing = E.attr(E.context, "missing")
        #expect(try eval.evaluate(E.and(E.and(and, E.not(n)), missing)) == .bool(false))
        #expect(try eval.evaluate(E.or(E.or(or, n), missing)) == .bool(true))
        // An error before the deciding operand surfaces.
        #expect(throws: CedarError(.attributeNotFound, "")) { try eval.evaluate(E.and(E.and(and, missing), E.not(n))) }
        #expect(throws: CedarError(.typeError, "")) { try eval.evaluate(E.or(E.or(or, E.long(1)), n)) }
    }

    @Test("a too-deep policy condition is reported as that policy's error")
    func authorizer() throws {
        let deep = Self.nest({ E.not(E.not($0)) }, E.bool(true), 5000)
        let set = try PolicySet(policies: [P.policy("deep", .permit, when: [deep]), P.policy("ok", .permit)])
        let r = Authorizer(set).isAuthorized(Fixture.request, entities: Fixture.entities)
        #expect(r.decision == .allow)
        #expect(r.reason == ["ok"])
        #expect(r.errors.map(\.policyID) == ["deep"])
        #expect(r.errors.first?.error.code == .limitExceeded)
    }
}
