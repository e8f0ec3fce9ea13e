import CedarPolicy
import Foundation
import Testing

/// Runs work on a thread with a small stack (like Swift concurrency or NIO threads) and waits for it.
enum SmallStack {
    /// 512 KiB, the size of a secondary thread's stack on Darwin.
    static let size = 512 * 1024

    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }

    static func run<T: Sendable>(stackSize: Int = Self.size, _ body: @escaping @Sendable () -> T) -> T? {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = stackSize
        thread.start()
        done.wait()
        return box.value
    }
}

/// Deeply nested and very long conditions compile and evaluate without exhausting the stack.
@Suite("Evaluator: stack use")
struct EvaluatorStackTests {
    /// The nesting depth for the small-stack tests; `LATCH_STACK_DEPTH` overrides it to probe the limit.
    static let depth = ProcessInfo.processInfo.environment["LATCH_STACK_DEPTH"].flatMap { Int($0) } ?? 128

    static let t = E.eq(E.attr(E.context, "n"), E.long(1))  // true, and not a constant
    static let f = E.not(t)

    /// `context.deep` is `{a: {a: … {a: true}}}`, `depth` records deep.
    static let request: Request = {
        var v = Value.bool(true)
        for _ in 0..<depth { v = .record(["a": v]) }
        return Request(principal: Fixture.alice, action: Fixture.read, resource: Fixture.doc, context: ["n": .long(1), "deep": v])
    }()

    /// Shapes of `depth`-level nesting, each a condition that is true; built in code (no parser limit).
    static let shapes: [(String, @Sendable (Int) -> Expr)] = [
        ("!(…)", { d in EvaluatorLimitTests.nest({ E.not($0) }, d % 2 == 0 ? t : f, d) }),
        ("-(…)", { d in E.eq(EvaluatorLimitTests.nest({ E.neg($0) }, E.attr(E.context, "n"), d), E.long(d % 2 == 0 ? 1 : -1)) }),
        ("nested records", { d in E.has(EvaluatorLimitTests.nest({ E.record([("a", $0)]) }, E.attr(E.context, "n"), d), "a") }),
        ("nested sets", { d in E.not(E.isEmpty(EvaluatorLimitTests.nest({ E.set([$0]) }, E.attr(E.context, "n"), d))) }),
        ("if in then", { d in EvaluatorLimitTests.nest({ E.ite(t, $0, E.bool(false)) }, t, d) }),
        ("if in condition", { d in EvaluatorLimitTests.nest({ E.ite($0, t, E.bool(false)) }, t, d) }),
        (".attr chain", { d in E.eq(EvaluatorLimitTests.nest({ E.attr($0, "a") }, E.attr(E.context, "deep"), d), E.bool(true)) }),
        ("record.a", { d in EvaluatorLimitTests.nest({ E.attr(E.record([("a", $0)]), "a") }, t, d) }),
        ("== chain", { d in EvaluatorLimitTests.nest({ E.eq($0, E.bool(true)) }, t, d) }),
        ("+ chain", { d in E.eq(EvaluatorLimitTests.nest({ E.bin(.add, $0, E.attr(E.context, "n")) }, E.long(0), d), E.long(Int64(d))) }),
        ("&& inside ||", { d in EvaluatorLimitTests.nest({ d in E.or(f, E.and(t, d)) }, t, d) }),
        ("|| chain", { d in E.or(EvaluatorLimitTests.nest({ E.or($0, f) }, f, d * 40), t) }),
        ("&& chain", { d in EvaluatorLimitTests.nest({ E.and($0, t) }, t, d * 40) }),
    ]

    @Test("depth 128 compiles and authorizes on a 512 KiB thread", arguments: shapes.map(\.0))
    func smallStack(_ name: String) throws {
        let build = try #require(Self.shapes.first { $0.0 == name }).1
        if let only = ProcessInfo.processInfo.environment["LATCH_STACK_SHAPE"], only != name { return }  // for probing one shape
        let condition = build(Self.depth)
        let set = try PolicySet(policies: [P.policy("deep", .permit, when: [condition])])
        let request = Self.request
        let result = SmallStack.run { () -> [String] in
            let r = Authorizer(set).isAuthorized(request, entities: Fixture.entities)
            let value = try? Evaluator(request: request, entities: Fixture.entities).evaluate(condition)
            return r.reason + r.errors.map { "\($0.policyID): \($0.error.message)" } + ["\(value.map { "\($0)" } ?? "error")"]
        }
        #expect(result == ["deep", "bool(true)"])
        withExtendedLifetime((set, condition)) {}  // the AST is freed here, on the test's thread
    }

    @Test("200,000 when/unless clauses authorize on the default thread")
    func manyClauses() throws {
        let n = E.attr(E.context, "n")
        let clauses = [Condition](repeating: Condition(kind: .when, body: E.eq(n, E.long(1))), count: 200_000)
        func authorize(_ conditions: [Condition]) throws -> Response {
            let policy = Policy(id: "many", effect: .permit, principal: .any, action: .any, resource: .any, conditions: conditions)
            return Authorizer(try PolicySet(policies: [policy])).isAuthorized(Fixture.request, entities: Fixture.entities)
        }
        #expect(try authorize(clauses).reason == ["many"])
        #expect(try authorize(clauses + [Condition(kind: .unless, body: E.eq(n, E.long(1)))]).reason == [])
        // Clauses run in order: an erroring clause after a false one is not reached, and vice versa.
        let missing = Condition(kind: .when, body: E.attr(E.context, "missing"))
        let no = Condition(kind: .when, body: E.eq(n, E.long(2)))
        #expect(try authorize(clauses + [no, missing]).errors.isEmpty)
        #expect(try authorize(clauses + [missing, no]).errors.map(\.policyID) == ["many"])
        let policy = Policy(id: "many", effect: .permit, principal: .any, action: .any, resource: .any, conditions: clauses)
        #expect(try Evaluator(request: Fixture.request, entities: Fixture.entities).isSatisfied(policy))
    }
}
