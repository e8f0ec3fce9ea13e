import Foundation
import Testing

@testable import CedarPolicy

/// The policy JSON (EST) fixtures generated from the Rust engine by `Fixtures/generate_est_fixtures.py`.
enum ESTFixtures {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var text: String
        var est: JSONValue
        var description: String { self.name }
    }

    static let all: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/est-fixtures.json")
        guard let data = try? Data(contentsOf: url), case .array(let items)? = try? JSONValue(parsing: Array(data)) else { return [] }
        return items.compactMap { item in
            guard case .string(let name)? = item["name"], case .string(let text)? = item["text"], let est = item["est"] else { return nil }
            return Case(name: name, text: text, est: est)
        }
    }()

    /// The path and both sides of the first difference between two JSON values, for failure messages.
    static func firstDifference(_ a: JSONValue, _ b: JSONValue, path: String = "$") -> String? {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for k in Set(x.keys).union(y.keys).sorted() {
                guard let xv = x[k], let yv = y[k] else { return "\(path).\(k): present on one side only" }
                if let d = firstDifference(xv, yv, path: "\(path).\(k)") { return d }
            }
            return nil
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return "\(path): \(x.count) vs \(y.count) elements" }
            for (i, (xv, yv)) in zip(x, y).enumerated() {
                if let d = firstDifference(xv, yv, path: "\(path)[\(i)]") { return d }
            }
            return nil
        default:
            return a == b ? nil : "\(path): \(a.serialized().prefix(300)) vs \(b.serialized().prefix(300))"
        }
    }

    /// The policy with what the JSON format does not keep made canonical: annotations sorted by key
    /// (Cedar writes them sorted) and `action in [A]` as `action in A` (Cedar writes it so).
    static func normalized(_ p: Policy) -> Policy {
        var p = p
        p.annotations.sort { $0.key < $1.key }
        if case .inSet(let uids) = p.action, uids.count == 1 { p.action = .in(uids[0]) }
        p.conditions = p.conditions.map { Condition(kind: $0.kind, body: self.sortingRecords($0.body)) }
        return p
    }

    /// `e` with record literal entries sorted by key (Cedar writes records sorted; the AST keeps
    /// source order and compares it).
    static func sortingRecords(_ e: Expr) -> Expr {
        let f = self.sortingRecords
        switch e.kind {
        case .literal, .variable, .slot: return e
        case .not(let x): return Expr(.not(f(x)))
        case .negate(let x): return Expr(.negate(f(x)))
        case .isEmpty(let x): return Expr(.isEmpty(f(x)))
        case .and(let l, let r): return Expr(.and(f(l), f(r)))
        case .or(let l, let r): return Expr(.or(f(l), f(r)))
        case .binary(let op, let l, let r): return Expr(.binary(op, f(l), f(r)))
        case .ifThenElse(let c, let t, let x): return Expr(.ifThenElse(f(c), f(t), f(x)))
        case .getAttr(let x, let a): return Expr(.getAttr(f(x), a))
        case .hasAttr(let x, let a): return Expr(.hasAttr(f(x), a))
        case .like(let x, let p): return Expr(.like(f(x), p))
        case .isType(let x, let t, let i): return Expr(.isType(f(x), t, in: i.map(f)))
        case .set(let items): return Expr(.set(items.map(f)))
        case .call(let fn, let args): return Expr(.call(fn, args.map(f)))
        case .record(let entries):
            return Expr(.record(entries.map { RecordEntry(key: $0.key, value: f($0.value)) }.sorted { $0.key < $1.key }))
        }
    }

    /// Cedar writes a bare `@key` as `null`; our AST keeps it as "" (see `Policy.json`).
    static func normalizingBareAnnotations(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out = JSONObject()
            for (k, x) in o {
                if k == "annotations", case .object(let a) = x {
                    var b = JSONObject()
                    for (ak, av) in a { b.insert(ak, av == .null ? .string("") : av) }
                    out.insert(k, .object(b))
                } else {
                    out.insert(k, self.normalizingBareAnnotations(x))
                }
            }
            return .object(out)
        case .array(let items): return .array(items.map(self.normalizingBareAnnotations))
        default: return v
        }
    }
}

@Suite("Policy JSON (EST)")
struct PolicyJSONTests {
    @Test("the fixture file is present and large")
    func fixturesLoaded() {
        #expect(ESTFixtures.all.count > 500)
    }

    @Test("reading the Rust engine's JSON and writing it back gives the same JSON")
    func roundTripsOracleJSON() throws {
        var failures = 0
        for c in ESTFixtures.all {
            do {
                let set = try PolicySet(json: c.est)
                let back = set.json
                let expected = ESTFixtures.normalizingBareAnnotations(c.est)
                if back != expected {
                    failures += 1
                    if failures <= 5 { Issue.record("\(c.name): \(ESTFixtures.firstDifference(back, expected) ?? "")") }
                }
                // Policy-level round trip through the text of each policy JSON.
                for p in set.staticPolicies + set.templates {
                    #expect(try Policy(json: JSONValue(parsing: p.json.serialized()), id: p.id) == p)
                }
            } catch {
                failures += 1
                if failures <= 5 { Issue.record("\(c.name): \(error)") }
            }
        }
        #expect(failures == 0)
    }

    @Test("our JSON for parsed policy text equals the Rust engine's, and reading its JSON gives the parsed AST")
    func matchesOracleForText() throws {
        var failures = 0
        for c in ESTFixtures.all {
            do {
                let parsed = try PolicySet(parsing: c.text)
                let ours = parsed.json
                let expected = ESTFixtures.normalizingBareAnnotations(c.est)
                if ours != expected {
                    failures += 1
                    if failures <= 5 { Issue.record("\(c.name): \(ESTFixtures.firstDifference(ours, expected) ?? "")") }
                }
                let fromJSON = try PolicySet(json: c.est)
                let normalize = { (set: PolicySet) in (set.staticPolicies + set.templates).map(ESTFixtures.normalized) }
                if normalize(fromJSON) != normalize(parsed) {
                    failures += 1
                    if failures <= 5 {
                        Issue.record("\(c.name): AST from JSON differs: \(ESTFixtures.firstDifference(fromJSON.json, ours) ?? "only in the AST")")
                    }
                }
            } catch {
                failures += 1
                if failures <= 5 { Issue.record("\(c.name): \(error)") }
            }
        }
        #expect(failures == 0)
    }

    @Test("every expression node kind has its JSON form")
    func expressionForms() throws {
        let p = EntityUID(type: EntityType(unchecked: "User"), id: "a")
        let cases: [(Expr.Kind, String)] = [
            (.literal(.long(-5)), #"{"Value":-5}"#),
            (.literal(.entity(p)), #"{"Value":{"__entity":{"type":"User","id":"a"}}}"#),
            (.variable(.context), #"{"Var":"context"}"#),
            (.slot(.principal), #"{"Slot":"?principal"}"#),
            (.not(Expr(.literal(.bool(true)))), #"{"!":{"arg":{"Value":true}}}"#),
            (.negate(Expr(.literal(.long(1)))), #"{"neg":{"arg":{"Value":1}}}"#),
            (.isEmpty(Expr(.set([]))), #"{"isEmpty":{"arg":{"Set":[]}}}"#),
            (.binary(.containsAll, Expr(.set([])), Expr(.set([]))), #"{"containsAll":{"left":{"Set":[]},"right":{"Set":[]}}}"#),
            (.binary(.getTag, Expr(.variable(.principal)), Expr(.literal(.string("t")))),
             #"{"getTag":{"left":{"Var":"principal"},"right":{"Value":"t"}}}"#),
            (.getAttr(Expr(.variable(.context)), "a b"), #"{".":{"left":{"Var":"context"},"attr":"a b"}}"#),
            (.hasAttr(Expr(.variable(.context)), "a"), #"{"has":{"left":{"Var":"context"},"attr":"a"}}"#),
            (.like(Expr(.variable(.resource)), Pattern([.literal("a"), .wildcard])),
             #"{"like":{"left":{"Var":"resource"},"pattern":[{"Literal":"a"},"Wildcard"]}}"#),
            (.isType(Expr(.variable(.principal)), EntityType(unchecked: "A::B"), in: Expr(.literal(.entity(p)))),
             #"{"is":{"left":{"Var":"principal"},"entity_type":"A::B","in":{"Value":{"__entity":{"type":"User","id":"a"}}}}}"#),
            (.ifThenElse(Expr(.literal(.bool(true))), Expr(.literal(.long(1))), Expr(.literal(.long(2)))),
             #"{"if-then-else":{"if":{"Value":true},"then":{"Value":1},"else":{"Value":2}}}"#),
            (.record([RecordEntry(key: "z", value: Expr(.literal(.long(1)))), RecordEntry(key: "a", value: Expr(.set([])))]),
             #"{"Record":{"z":{"Value":1},"a":{"Set":[]}}}"#),
            (.call(.isInRange, [Expr(.call(.ip, [Expr(.literal(.string("1.2.3.4")))])), Expr(.variable(.context))]),
             #"{"isInRange":[{"ip":[{"Value":"1.2.3.4"}]},{"Var":"context"}]}"#),
            (.or(Expr(.literal(.bool(false))), Expr(.literal(.bool(true)))), #"{"||":{"left":{"Value":false},"right":{"Value":true}}}"#),
        ]
        for (kind, text) in cases {
            let e = Expr(kind)
            #expect(e.json.serialized() == text)
            #expect(try Expr(json: JSONValue(parsing: text)) == e)
        }
    }

    @Test("Value nodes holding sets, records and extension values become constructing expressions")
    func valueNodes() throws {
        let e = try Expr(json: JSONValue(parsing: #"{"Value": [1, {"a": true}, {"__extn": {"fn": "decimal", "arg": "1.0"}}]}"#))
        let expected = Expr(.set([
            Expr(.literal(.long(1))), Expr(.record([RecordEntry(key: "a", value: Expr(.literal(.bool(true))))])),
            Expr(.call(.decimal, [Expr(.literal(.string("1.0")))])),
        ]))
        #expect(e == expected)
        let multi = try Expr(json: JSONValue(parsing: #"{"like": {"left": {"Var": "context"}, "pattern": [{"Literal": "abc"}, "Wildcard"]}}"#))
        #expect(multi == Expr(.like(Expr(.variable(.context)), Pattern([.literal("a"), .literal("b"), .literal("c"), .wildcard]))))
    }

    static let base = #""effect":"permit","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"}"#

    @Test("malformed policy JSON is rejected", arguments: [
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"Var\":\"principal\",\"Value\":1}}]}",
        "{\(base)}",
        "{\(base),\"conditions\":[],\"annotations\":{\"a b\":\"x\"}}",
        "{\(base),\"conditions\":[],\"annotations\":{\"\":\"x\"}}",
        "{\(base),\"conditions\":[],\"annotations\":{\"a\":1}}",
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"Slot\":\"?principal\"}}]}",
        "{\(base),\"conditions\":[],\"extra\":1}",
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"foo\":[{\"Value\":1}]}}]}",
        "{\(base),\"conditions\":[{\"kind\":\"sometimes\",\"body\":{\"Value\":true}}]}",
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"Value\":1.5}}]}",
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"Var\":\"nobody\"}}]}",
        "{\(base),\"conditions\":[{\"kind\":\"when\",\"body\":{\"like\":{\"left\":{\"Var\":\"context\"},\"pattern\":[\"Star\"]}}}]}",
        #"{"effect":"allow","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
        #"{"effect":"permit","principal":{"op":"==","slot":"?resource"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
        #"{"effect":"permit","principal":{"op":"All"},"action":{"op":"in","entities":[{"type":"User","id":"a"}]},"resource":{"op":"All"},"conditions":[]}"#,
        #"{"effect":"permit","principal":{"op":"is","entity_type":"Us er"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
        #"{"effect":"permit","principal":{"op":"like"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}"#,
    ])
    func rejectsMalformed(text: String) throws {
        let json = try JSONValue(parsing: text)
        #expect(throws: CedarError.self) { try Policy(json: json, id: "p") }
    }

    @Test("annotation keys may be reserved words; bare annotations read as empty strings")
    func annotations() throws {
        let p = try Policy(json: JSONValue(parsing: "{\(Self.base),\"conditions\":[],\"annotations\":{\"if\":\"x\",\"_b2\":null}}"), id: "p")
        #expect(p.annotations == [Annotation(key: "if", value: "x"), Annotation(key: "_b2", value: "")])
    }

    @Test("policy sets read templates and links and write them back")
    func policySetWithLinks() throws {
        let text = """
            {"staticPolicies":{},"templates":{"t0":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},\
            "resource":{"op":"All"},"conditions":[]}},"templateLinks":[{"templateId":"t0","newId":"l0","values":{"?principal":{"type":"User","id":"a"}}}]}
            """
        let set = try PolicySet(json: JSONValue(parsing: text))
        #expect(set.templates.map(\.id) == ["t0"])
        #expect(set.links.first?.values[.principal] == EntityUID(type: EntityType(unchecked: "User"), id: "a"))
        #expect(set.effectivePolicies.first?.principal == .eq(.uid(EntityUID(type: EntityType(unchecked: "User"), id: "a"))))
        #expect(set.json.serialized() == text)
    }

    @Test("policy set errors: bad links, slots in static policies, duplicate ids", arguments: [
        #"{"templates":{},"templateLinks":[{"templateId":"t0","newId":"l0","values":{}}]}"#,
        #"{"staticPolicies":{"p":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}}}"#,
        #"{"staticPolicies":{"p":{"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}},"templates":{"p":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"},"conditions":[]}}}"#,
        #"{"policies":{}}"#,
    ])
    func policySetErrors(text: String) throws {
        let json = try JSONValue(parsing: text)
        #expect(throws: CedarError.self) { try PolicySet(json: json) }
    }
}
