import CedarPolicy
import Testing

/// One evaluation vector: an expression and its value or error code.
struct EvalCase: Sendable, CustomTestStringConvertible {
    enum Expect: Sendable {
        case value(Value)
        case error(CedarError.Code)
    }

    let label: String
    let expr: Expr
    let expect: Expect

    init(_ label: String, _ expr: Expr, _ value: Value) {
        self.label = label
        self.expr = expr
        self.expect = .value(value)
    }

    init(_ label: String, _ expr: Expr, error: CedarError.Code) {
        self.label = label
        self.expr = expr
        self.expect = .error(error)
    }

    var testDescription: String { self.label }

    func check() {
        let result = Fixture.evaluate(self.expr)
        switch (self.expect, result) {
        case (.value(let want), .success(let got)): #expect(got == want, "\(self.label)")
        case (.error(let want), .failure(let got)): #expect(got.code == want, "\(self.label): \(got.message)")
        case (.value(let want), .failure(let got)): Issue.record("\(self.label): wanted \(want), got error \(got.message)")
        case (.error(let want), .success(let got)): Issue.record("\(self.label): wanted error \(want), got \(got)")
        }
    }
}

private let t = Value.bool(true)
private let f = Value.bool(false)

@Suite("Evaluator: boolean operators")
struct EvaluatorBooleanTests {
    static let cases: [EvalCase] = [
        EvalCase("true && true", E.and(E.bool(true), E.bool(true)), t),
        EvalCase("true && false", E.and(E.bool(true), E.bool(false)), f),
        EvalCase("false && <error> short-circuits", E.and(E.bool(false), E.long(1)), f),
        EvalCase("false && overflow short-circuits", E.and(E.bool(false), E.bin(.add, E.long(.max), E.long(1))), f),
        EvalCase("true && 1 is a type error", E.and(E.bool(true), E.long(1)), error: .typeError),
        EvalCase("1 && true is a type error", E.and(E.long(1), E.bool(true)), error: .typeError),
        EvalCase("true || <error> short-circuits", E.or(E.bool(true), E.attr(E.long(1), "x")), t),
        EvalCase("false || false", E.or(E.bool(false), E.bool(false)), f),
        EvalCase("false || \"a\" is a type error", E.or(E.bool(false), E.str("a")), error: .typeError),
        EvalCase("!true", E.not(E.bool(true)), f),
        EvalCase("!1 is a type error", E.not(E.long(1)), error: .typeError),
        EvalCase("dynamic && short-circuit", E.and(E.eq(E.principal, E.entity("User", "bob")), E.attr(E.principal, "nope")), f),
        EvalCase("dynamic || short-circuit", E.or(E.eq(E.principal, E.entity("User", "alice")), E.attr(E.principal, "nope")), t),
        EvalCase("dynamic && error", E.and(E.eq(E.principal, E.entity("User", "alice")), E.attr(E.principal, "nope")), error: .attributeNotFound),
        EvalCase("if true then 1 else error", E.ite(E.bool(true), E.long(1), E.attr(E.long(1), "x")), .long(1)),
        EvalCase("if false then error else 2", E.ite(E.bool(false), E.attr(E.long(1), "x"), E.long(2)), .long(2)),
        EvalCase("if 1 is a type error", E.ite(E.long(1), E.long(1), E.long(2)), error: .typeError),
        EvalCase("if on dynamic condition", E.ite(E.has(E.context, "n"), E.attr(E.context, "n"), E.long(0)), .long(1)),
    ]

    @Test("boolean operators, short-circuiting and type errors", arguments: cases)
    func vector(_ c: EvalCase) { c.check() }
}

@Suite("Evaluator: arithmetic and comparison")
struct EvaluatorArithmeticTests {
    static let cases: [EvalCase] = [
        EvalCase("1 + 2", E.bin(.add, E.long(1), E.long(2)), .long(3)),
        EvalCase("1 - 2", E.bin(.sub, E.long(1), E.long(2)), .long(-1)),
        EvalCase("3 * -4", E.bin(.mul, E.long(3), E.long(-4)), .long(-12)),
        EvalCase("max + 1 overflows", E.bin(.add, E.long(.max), E.long(1)), error: .overflow),
        EvalCase("min - 1 overflows", E.bin(.sub, E.long(.min), E.long(1)), error: .overflow),
        EvalCase("max * 2 overflows", E.bin(.mul, E.long(.max), E.long(2)), error: .overflow),
        EvalCase("-min overflows", E.neg(E.long(.min)), error: .overflow),
        EvalCase("-max", E.neg(E.long(.max)), .long(-Int64.max)),
        EvalCase("-\"a\" is a type error", E.neg(E.str("a")), error: .typeError),
        EvalCase("1 + \"a\" is a type error", E.bin(.add, E.long(1), E.str("a")), error: .typeError),
        EvalCase("context.n + 1 (dynamic)", E.bin(.add, E.attr(E.context, "n"), E.long(1)), .long(2)),
        EvalCase("1 < 2", E.bin(.lt, E.long(1), E.long(2)), t),
        EvalCase("2 <= 2", E.bin(.le, E.long(2), E.long(2)), t),
        EvalCase("2 > 2", E.bin(.gt, E.long(2), E.long(2)), f),
        EvalCase("2 >= 3", E.bin(.ge, E.long(2), E.long(3)), f),
        EvalCase("principal.age >= 18", E.bin(.ge, E.attr(E.principal, "age"), E.long(18)), t),
        EvalCase("\"a\" < \"b\" is a type error", E.bin(.lt, E.str("a"), E.str("b")), error: .typeError),
        EvalCase("1 < \"b\" is a type error", E.bin(.lt, E.long(1), E.str("b")), error: .typeError),
        EvalCase("decimal < decimal is a type error", E.bin(.lt, E.decimal("1.0"), E.decimal("2.0")), error: .typeError),
        EvalCase("datetime < datetime", E.bin(.lt, E.datetime("2020-01-01"), E.datetime("2021-01-01")), t),
        EvalCase("datetime >= datetime", E.bin(.ge, E.datetime("2020-01-01"), E.datetime("2021-01-01")), f),
        EvalCase("duration <= duration", E.bin(.le, E.duration("60m"), E.duration("1h")), t),
        EvalCase("duration > duration", E.bin(.gt, E.duration("2h"), E.duration("1h")), t),
        EvalCase("datetime < duration is a type error", E.bin(.lt, E.datetime("2020-01-01"), E.duration("1h")), error: .typeError),
        EvalCase("duration < long is a type error", E.bin(.lt, E.duration("1h"), E.long(1)), error: .typeError),
        EvalCase("long > datetime is a type error", E.bin(.gt, E.long(1), E.datetime("2020-01-01")), error: .typeError),
    ]

    @Test("arithmetic with overflow errors; comparisons on long, datetime, duration", arguments: cases)
    func vector(_ c: EvalCase) { c.check() }
}

@Suite("Evaluator: equality")
struct EvaluatorEqualityTests {
    static let cases: [EvalCase] = [
        EvalCase("1 == 1", E.eq(E.long(1), E.long(1)), t),
        EvalCase("1 == \"1\" is false, not an error", E.eq(E.long(1), E.str("1")), f),
        EvalCase("1 != \"1\"", E.bin(.neq, E.long(1), E.str("1")), t),
        EvalCase("sets compare as sets", E.eq(E.set([E.long(1), E.long(2)]), E.set([E.long(2), E.long(1), E.long(1)])), t),
        EvalCase(
            "records compare as maps", E.eq(E.record([("a", E.long(1)), ("b", E.long(2))]), E.record([("b", E.long(2)), ("a", E.long(1))])), t),
        EvalCase("records differ", E.eq(E.record([("a", E.long(1))]), E.record([("a", E.long(2))])), f),
        EvalCase("entity equality", E.eq(E.principal, E.entity("User", "alice")), t),
        EvalCase("entity inequality by type", E.eq(E.principal, E.entity("Admin", "alice")), f),
        EvalCase("decimal equality is by value", E.eq(E.decimal("1.5"), E.decimal("1.5000")), t),
        EvalCase("ip equality keeps host bits", E.eq(E.ip("10.0.0.1/24"), E.ip("10.0.0.0/24")), f),
        EvalCase("ip full prefix is implicit", E.eq(E.ip("1.2.3.4"), E.ip("1.2.3.4/32")), t),
        EvalCase("duration equality", E.eq(E.duration("1h"), E.duration("60m")), t),
        EvalCase("datetime equality across offsets", E.eq(E.datetime("2020-01-01T01:00:00+0100"), E.datetime("2020-01-01")), t),
        EvalCase("== evaluates both sides (error)", E.eq(E.attr(E.principal, "nope"), E.long(1)), error: .attributeNotFound),
        EvalCase("context.s == \"x\"", E.eq(E.attr(E.context, "s"), E.str("x")), t),
    ]

    @Test("== and != on any values", arguments: cases)
    func vector(_ c: EvalCase) { c.check() }
}

@Suite("Evaluator: hierarchy, attributes, tags")
struct EvaluatorEntityTests {
    static let cases: [EvalCase] = [
        EvalCase("principal in Group::g", E.bin(.in, E.principal, E.entity("Group", "g")), t),
        EvalCase("principal in Group::top (transitive)", E.bin(.in, E.principal, E.entity("Group", "top")), t),
        EvalCase("principal in itself", E.bin(.in, E.principal, E.entity("User", "alice")), t),
        EvalCase("principal in other", E.bin(.in, E.principal, E.entity("Group", "other")), f),
        EvalCase("unknown entity in itself", E.bin(.in, E.entity("User", "zed"), E.entity("User", "zed")), t),
        EvalCase("unknown entity in group", E.bin(.in, E.entity("User", "zed"), E.entity("Group", "g")), f),
        EvalCase("in set", E.bin(.in, E.principal, E.set([E.entity("Group", "x"), E.entity("Group", "top")])), t),
        EvalCase("in set, none match", E.bin(.in, E.principal, E.set([E.entity("Group", "x")])), f),
        EvalCase("in empty set", E.bin(.in, E.principal, E.set([])), f),
        EvalCase(
            "in set with a non-entity is a type error", E.bin(.in, E.principal, E.set([E.entity("User", "alice"), E.long(1)])), error: .typeError),
        EvalCase("long in set is a type error", E.bin(.in, E.long(1), E.set([E.entity("User", "a")])), error: .typeError),
        EvalCase("in long is a type error", E.bin(.in, E.principal, E.long(1)), error: .typeError),
        EvalCase("dynamic rhs: in resource.owner", E.bin(.in, E.principal, E.attr(E.resource, "owner")), t),
        EvalCase("action in action group", E.bin(.in, E.action, E.entity("Action", "readActions")), t),
        EvalCase("principal.age", E.attr(E.principal, "age"), .long(30)),
        EvalCase("nested record attribute", E.attr(E.attr(E.principal, "info"), "level"), .long(3)),
        EvalCase("missing attribute", E.attr(E.principal, "nope"), error: .attributeNotFound),
        EvalCase("missing record attribute", E.attr(E.attr(E.principal, "info"), "nope"), error: .attributeNotFound),
        EvalCase("attribute of entity not in store", E.attr(E.attr(E.principal, "manager"), "age"), error: .entityNotFound),
        EvalCase("attribute of a long is a type error", E.attr(E.long(1), "x"), error: .typeError),
        EvalCase("record literal attribute", E.attr(E.record([("a", E.long(1))]), "a"), .long(1)),
        EvalCase("context missing attribute", E.attr(E.context, "zz"), error: .attributeNotFound),
        EvalCase("has present", E.has(E.principal, "age"), t),
        EvalCase("has absent", E.has(E.principal, "nope"), f),
        EvalCase("has on entity not in store is false", E.has(E.entity("User", "zed"), "age"), f),
        EvalCase("has on record", E.has(E.record([("a", E.long(1))]), "a"), t),
        EvalCase("has on context", E.has(E.context, "n"), t),
        EvalCase("has on long is a type error", E.has(E.long(1), "a"), error: .typeError),
        EvalCase("hasTag present", E.bin(.hasTag, E.principal, E.str("t")), t),
        EvalCase("hasTag absent", E.bin(.hasTag, E.principal, E.str("x")), f),
        EvalCase("hasTag on entity not in store", E.bin(.hasTag, E.entity("User", "zed"), E.str("t")), f),
        EvalCase("hasTag on a record is a type error", E.bin(.hasTag, E.context, E.str("t")), error: .typeError),
        EvalCase("hasTag with a long key is a type error", E.bin(.hasTag, E.principal, E.long(1)), error: .typeError),
        EvalCase("getTag present", E.bin(.getTag, E.principal, E.str("t")), .string("v")),
        EvalCase("getTag absent", E.bin(.getTag, E.principal, E.str("x")), error: .tagNotFound),
        EvalCase("getTag on entity not in store", E.bin(.getTag, E.entity("User", "zed"), E.str("t")), error: .entityNotFound),
        EvalCase("is User", E.isType(E.principal, "User"), t),
        EvalCase("is Group", E.isType(E.principal, "Group"), f),
        EvalCase("is User in Group::top", E.isType(E.principal, "User", in: E.entity("Group", "top")), t),
        EvalCase("is Group in <error> short-circuits", E.isType(E.principal, "Group", in: E.long(1)), f),
        EvalCase("is on a long is a type error", E.isType(E.long(1), "User"), error: .typeError),
        EvalCase("namespaced type differs", E.isType(E.entity("NS::User", "a"), "User"), f),
    ]

    @Test("in, has, attribute access, tags, is", arguments: cases)
    func vector(_ c: EvalCase) { c.check() }
}

@Suite("Evaluator: strings, sets, records, extension calls")
struct EvaluatorCollectionTests {
    static let cases: [EvalCase] = [
        EvalCase("like exact", E.like(E.str("abc"), "abc"), t),
        EvalCase("like a*c", E.like(E.str("abc"), "a*c"), t),
        EvalCase("like * matches empty", E.like(E.str(""), "*"), t),
        EvalCase("like a*b*c backtracks", E.like(E.str("aXbYbZc"), "a*b*c"), t),
        EvalCase("like mismatch", E.like(E.str("abd"), "a*c"), f),
        EvalCase("like is case sensitive", E.like(E.str("ABC"), "abc"), f),
        EvalCase("like over unicode scalars", E.like(E.str("héllo wörld"), "h?llo*".replacingOccurrences("?", "é")), t),
        EvalCase("like with no wildcard needs full match", E.like(E.str("abcd"), "abc"), f),
        EvalCase("like pathological input is fast", E.like(E.str(String(repeating: "a", count: 5000)), String(repeating: "*a", count: 50) + "b"), f),
        EvalCase("like on a long is a type error", E.like(E.long(1), "*"), error: .typeError),
        EvalCase("contains", E.bin(.contains, E.set([E.long(1), E.long(2)]), E.long(1)), t),
        EvalCase("contains absent", E.bin(.contains, E.set([E.long(1)]), E.long(3)), f),
        EvalCase("contains on a non-set is a type error", E.bin(.contains, E.long(1), E.long(1)), error: .typeError),
        EvalCase("containsAll", E.bin(.containsAll, E.set([E.long(1), E.long(2)]), E.set([E.long(2)])), t),
        EvalCase("containsAll empty", E.bin(.containsAll, E.set([E.long(1)]), E.set([])), t),
        EvalCase("containsAll missing", E.bin(.containsAll, E.set([E.long(1)]), E.set([E.long(1), E.long(5)])), f),
        EvalCase("containsAll non-set arg is a type error", E.bin(.containsAll, E.set([E.long(1)]), E.long(1)), error: .typeError),
        EvalCase("containsAny", E.bin(.containsAny, E.set([E.long(1), E.long(2)]), E.set([E.long(3), E.long(2)])), t),
        EvalCase("containsAny none", E.bin(.containsAny, E.set([E.long(1)]), E.set([E.long(3)])), f),
        EvalCase("containsAny non-set is a type error", E.bin(.containsAny, E.str("a"), E.set([])), error: .typeError),
        EvalCase("context.flags.contains(\"a\")", E.bin(.contains, E.attr(E.context, "flags"), E.str("a")), t),
        EvalCase("isEmpty", E.isEmpty(E.set([])), t),
        EvalCase("not isEmpty", E.isEmpty(E.set([E.long(1)])), f),
        EvalCase("isEmpty on a non-set is a type error", E.isEmpty(E.long(1)), error: .typeError),
        EvalCase("set literal dedups", E.set([E.long(1), E.long(1)]), .set([.long(1)])),
        EvalCase("set literal with dynamic element", E.set([E.principal]), .set([.entity(Fixture.alice)])),
        EvalCase("set literal propagates errors", E.set([E.long(1), E.attr(E.long(1), "x")]), error: .typeError),
        EvalCase("record literal", E.record([("a", E.long(1)), ("b", E.principal)]), .record(["a": .long(1), "b": .entity(Fixture.alice)])),
        EvalCase("extension call", E.call(.lessThan, E.decimal("1.0"), E.decimal("2.0")), t),
        EvalCase("extension call with wrong type", E.call(.lessThan, E.decimal("1.0"), E.long(2)), error: .typeError),
        EvalCase("extension constructor error", E.decimal("abc"), error: .extensionError),
        EvalCase("extension constructor with non-string", E.call(.decimal, E.long(1)), error: .typeError),
        EvalCase("extension call wrong arity", Expr(.call(.isIpv4, [])), error: .typeError),
        EvalCase("slot in body is an error", Expr(.slot(.principal)), error: .unlinkedSlot),
    ]

    @Test("like, set methods, literals, extension calls", arguments: cases)
    func vector(_ c: EvalCase) { c.check() }
}

extension String {
    fileprivate func replacingOccurrences(_ a: Character, _ b: Character) -> String { String(self.map { $0 == a ? b : $0 }) }
}
