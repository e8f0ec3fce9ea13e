import Foundation

@testable import CedarPolicy

/// Test-only rendering of the AST in Cedar's JSON policy format (EST), used to compare this
/// parser with the Rust implementation on whole corpora.
enum ESTDump {
    static func policy(_ p: Policy) -> [String: Any] {
        var out: [String: Any] = [
            "effect": p.effect.rawValue,
            "principal": scope(p.principal),
            "action": action(p.action),
            "resource": scope(p.resource),
            "conditions": p.conditions.map { ["kind": $0.kind.rawValue, "body": expr($0.body)] as [String: Any] },
        ]
        if !p.annotations.isEmpty {
            var a: [String: Any] = [:]
            for ann in p.annotations { a[ann.key] = ann.value }
            out["annotations"] = a
        }
        return out
    }

    static func uid(_ u: EntityUID) -> [String: Any] { ["type": u.type.name, "id": u.id] }

    static func ref(_ r: EntityReference) -> (String, Any) {
        switch r {
        case .uid(let u): ("entity", uid(u))
        case .slot(let s): ("slot", s.rawValue)
        }
    }

    static func scope(_ c: ScopeConstraint) -> [String: Any] {
        switch c {
        case .any: return ["op": "All"]
        case .eq(let r):
            let (k, v) = ref(r)
            return ["op": "==", k: v]
        case .in(let r):
            let (k, v) = ref(r)
            return ["op": "in", k: v]
        case .is(let t): return ["op": "is", "entity_type": t.name]
        case .isIn(let t, let r):
            let (k, v) = ref(r)
            return ["op": "is", "entity_type": t.name, "in": [k: v]]
        }
    }

    static func action(_ c: ActionConstraint) -> [String: Any] {
        switch c {
        case .any: return ["op": "All"]
        case .eq(let u): return ["op": "==", "entity": uid(u)]
        case .in(let u): return ["op": "in", "entity": uid(u)]
        case .inSet(let us):
            if us.count == 1 { return ["op": "in", "entity": uid(us[0])] }
            return ["op": "in", "entities": us.map(uid)]
        }
    }

    static func value(_ v: Value) -> Any {
        switch v {
        case .bool(let b): return b
        case .long(let i): return NSNumber(value: i)
        case .string(let s): return s
        case .entity(let u): return ["__entity": uid(u)]
        default: return "<unsupported>"
        }
    }

    static func expr(_ e: Expr) -> Any {
        switch e.kind {
        case .literal(let v): return ["Value": value(v)]
        case .variable(let v): return ["Var": v.rawValue]
        case .slot(let s): return ["Slot": s.rawValue]
        case .not(let a): return ["!": ["arg": expr(a)]]
        case .negate(let a): return ["neg": ["arg": expr(a)]]
        case .and(let l, let r): return ["&&": ["left": expr(l), "right": expr(r)]]
        case .or(let l, let r): return ["||": ["left": expr(l), "right": expr(r)]]
        case .ifThenElse(let c, let t, let f): return ["if-then-else": ["if": expr(c), "then": expr(t), "else": expr(f)]]
        case .binary(let op, let l, let r):
            let name: String =
                switch op {
                case .contains: "contains"
                case .containsAll: "containsAll"
                case .containsAny: "containsAny"
                case .hasTag: "hasTag"
                case .getTag: "getTag"
                default: op.rawValue
                }
            return [name: ["left": expr(l), "right": expr(r)]]
        case .getAttr(let l, let a): return [".": ["left": expr(l), "attr": a]]
        case .hasAttr(let l, let a): return ["has": ["left": expr(l), "attr": a]]
        case .like(let l, let p):
            let pattern: [Any] = p.elements.map { el -> Any in
                switch el {
                case .wildcard: return "Wildcard"
                case .literal(let s): return ["Literal": String(Character(s))]
                }
            }
            return ["like": ["left": expr(l), "pattern": pattern]]
        case .isType(let l, let t, let inExpr):
            var body: [String: Any] = ["left": expr(l), "entity_type": t.name]
            if let inExpr { body["in"] = expr(inExpr) }
            return ["is": body]
        case .isEmpty(let a): return ["isEmpty": ["arg": expr(a)]]
        case .set(let items): return ["Set": items.map(expr)]
        case .record(let entries):
            var obj: [String: Any] = [:]
            for entry in entries { obj[entry.key] = expr(entry.value) }
            return ["Record": obj]
        case .call(let f, let args): return [f.rawValue: args.map(expr)]
        }
    }
}
