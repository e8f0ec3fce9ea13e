extension Expr {
    /// This expression in Cedar's JSON policy format (the "EST"): one-member objects such as
    /// `{"Value": 1}`, `{"Var": "principal"}`, `{"==": {"left": …, "right": …}}`,
    /// `{".": {"left": …, "attr": "a"}}`, `{"like": {"left": …, "pattern": [{"Literal": "a"}, "Wildcard"]}}`,
    /// `{"Set": […]}`, `{"Record": {…}}` and extension calls `{"ip": [args]}`.
    public var json: JSONValue {
        switch self.kind {
        case .literal(let v): return ["Value": v.json]
        case .variable(let v): return ["Var": .string(v.rawValue)]
        case .slot(let s): return ["Slot": .string(s.rawValue)]
        case .not(let e): return ["!": ["arg": e.json]]
        case .negate(let e): return ["neg": ["arg": e.json]]
        case .isEmpty(let e): return ["isEmpty": ["arg": e.json]]
        case .and(let l, let r): return ["&&": ["left": l.json, "right": r.json]]
        case .or(let l, let r): return ["||": ["left": l.json, "right": r.json]]
        case .binary(let op, let l, let r): return .object(Self.single(op.estName, ["left": l.json, "right": r.json]))
        case .ifThenElse(let c, let t, let e): return ["if-then-else": ["if": c.json, "then": t.json, "else": e.json]]
        case .getAttr(let e, let a): return [".": ["left": e.json, "attr": .string(a)]]
        case .hasAttr(let e, let a): return ["has": ["left": e.json, "attr": .string(a)]]
        case .like(let e, let p): return ["like": ["left": e.json, "pattern": p.json]]
        case .isType(let e, let t, let inExpr):
            var o = JSONObject()
            o.insert("left", e.json)
            o.insert("entity_type", .string(t.name))
            if let inExpr { o.insert("in", inExpr.json) }
            return ["is": .object(o)]
        case .set(let items): return ["Set": .array(items.map(\.json))]
        case .record(let entries):
            var o = JSONObject()
            for entry in entries { o[entry.key] = entry.value.json }
            return ["Record": .object(o)]
        case .call(let fn, let args): return .object(Self.single(fn.rawValue, .array(args.map(\.json))))
        }
    }

    private static func single(_ key: String, _ value: JSONValue) -> JSONObject {
        var o = JSONObject()
        o.insert(key, value)
        return o
    }

    /// Reads an expression in Cedar's JSON policy format (see ``json``).
    ///
    /// `{"Value": …}` accepts any Cedar value JSON; sets, records and extension values in it
    /// become the matching set, record and call expressions. Errors have code `.json`;
    /// nesting deeper than ``CedarParser/maxExpressionDepth`` is `.limitExceeded`.
    public init(json: JSONValue) throws(CedarError) {
        self = try ESTReader.expr(json, depth: 0)
    }
}
