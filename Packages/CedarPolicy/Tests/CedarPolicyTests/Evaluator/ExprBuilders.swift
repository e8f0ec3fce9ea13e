import CedarPolicy

/// Small builders for expression ASTs in tests (the parser is not needed to test the evaluator).
enum E {
    static func lit(_ v: Value) -> Expr { Expr(.literal(v)) }
    static func long(_ n: Int64) -> Expr { lit(.long(n)) }
    static func str(_ s: String) -> Expr { lit(.string(s)) }
    static func bool(_ b: Bool) -> Expr { lit(.bool(b)) }
    static func uid(_ type: String, _ id: String) -> EntityUID { EntityUID(type: EntityType(unchecked: type), id: id) }
    static func entity(_ type: String, _ id: String) -> Expr { lit(.entity(uid(type, id))) }
    static var principal: Expr { Expr(.variable(.principal)) }
    static var action: Expr { Expr(.variable(.action)) }
    static var resource: Expr { Expr(.variable(.resource)) }
    static var context: Expr { Expr(.variable(.context)) }
    static func not(_ e: Expr) -> Expr { Expr(.not(e)) }
    static func neg(_ e: Expr) -> Expr { Expr(.negate(e)) }
    static func and(_ a: Expr, _ b: Expr) -> Expr { Expr(.and(a, b)) }
    static func or(_ a: Expr, _ b: Expr) -> Expr { Expr(.or(a, b)) }
    static func ite(_ c: Expr, _ a: Expr, _ b: Expr) -> Expr { Expr(.ifThenElse(c, a, b)) }
    static func bin(_ op: BinaryOp, _ a: Expr, _ b: Expr) -> Expr { Expr(.binary(op, a, b)) }
    static func eq(_ a: Expr, _ b: Expr) -> Expr { bin(.eq, a, b) }
    static func attr(_ e: Expr, _ name: String) -> Expr { Expr(.getAttr(e, name)) }
    static func has(_ e: Expr, _ name: String) -> Expr { Expr(.hasAttr(e, name)) }
    static func set(_ es: [Expr]) -> Expr { Expr(.set(es)) }
    static func record(_ entries: [(String, Expr)]) -> Expr { Expr(.record(entries.map { RecordEntry(key: $0.0, value: $0.1) })) }
    static func call(_ fn: ExtensionFunction, _ args: Expr...) -> Expr { Expr(.call(fn, args)) }
    static func isType(_ e: Expr, _ type: String, in target: Expr? = nil) -> Expr { Expr(.isType(e, EntityType(unchecked: type), in: target)) }
    static func isEmpty(_ e: Expr) -> Expr { Expr(.isEmpty(e)) }

    /// A `like` pattern from text where `*` is a wildcard (no escapes).
    static func like(_ e: Expr, _ pattern: String) -> Expr {
        Expr(.like(e, Pattern(pattern.unicodeScalars.map { $0 == "*" ? .wildcard : .literal($0) })))
    }

    static func decimal(_ s: String) -> Expr { call(.decimal, str(s)) }
    static func ip(_ s: String) -> Expr { call(.ip, str(s)) }
    static func datetime(_ s: String) -> Expr { call(.datetime, str(s)) }
    static func duration(_ s: String) -> Expr { call(.duration, str(s)) }
}

/// The entity store and request most evaluator tests use.
enum Fixture {
    static let alice = E.uid("User", "alice")
    static let bob = E.uid("User", "bob")
    static let group = E.uid("Group", "g")
    static let top = E.uid("Group", "top")
    static let read = E.uid("Action", "read")
    static let readGroup = E.uid("Action", "readActions")
    static let doc = E.uid("Doc", "d")

    static let entities: Entities = {
        let list = [
            Entity(
                uid: alice,
                attributes: [
                    "age": .long(30), "name": .string("alice"), "manager": .entity(bob),
                    "info": .record(["level": .long(3)]),
                ],
                parents: [group], tags: ["t": .string("v")]),
            Entity(uid: group, parents: [top]),
            Entity(uid: top),
            Entity(uid: read, parents: [readGroup]),
            Entity(uid: doc, attributes: ["owner": .entity(alice), "public": .bool(false)]),
        ]
        do { return try Entities(list) } catch { fatalError("fixture entities are valid") }
    }()

    static let request = Request(
        principal: alice, action: read, resource: doc,
        context: ["n": .long(1), "s": .string("x"), "flags": .set([.string("a"), .string("b")])])

    static func evaluate(_ e: Expr) -> Result<Value, CedarError> {
        do {
            return .success(try Evaluator(request: request, entities: entities).evaluate(e))
        } catch {
            return .failure(error)
        }
    }
}
