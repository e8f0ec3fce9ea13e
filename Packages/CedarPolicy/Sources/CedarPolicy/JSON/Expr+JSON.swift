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

extension BinaryOp {
    /// The operator's key in the JSON policy format.
    var estName: String {
        switch self {
        case .contains: "contains"
        case .containsAll: "containsAll"
        case .containsAny: "containsAny"
        case .hasTag: "hasTag"
        case .getTag: "getTag"
        default: self.rawValue
        }
    }

    static let byESTName: [String: BinaryOp] = {
        var m: [String: BinaryOp] = [:]
        for op in [BinaryOp.eq, .neq, .lt, .le, .gt, .ge, .add, .sub, .mul, .in, .contains, .containsAll, .containsAny, .hasTag, .getTag] {
            m[op.estName] = op
        }
        return m
    }()
}

extension Pattern {
    /// `[{"Literal": "a"}, "Wildcard", …]`, one element per character as Cedar writes it.
    public var json: JSONValue {
        .array(
            self.elements.map { element in
                switch element {
                case .wildcard: "Wildcard"
                case .literal(let c): ["Literal": .string(String(Character(c)))]
                }
            })
    }

    /// Reads a pattern array; a `Literal` may hold any number of characters.
    public init(json: JSONValue) throws(CedarError) {
        guard case .array(let items) = json else { throw CedarError(.json, "a `like` pattern must be an array") }
        var elements: [Element] = []
        for item in items {
            switch item {
            case .string("Wildcard"): elements.append(.wildcard)
            case .object(let o) where o.count == 1:
                guard case .string(let s)? = o["Literal"] else { throw CedarError(.json, "invalid `like` pattern element") }
                for scalar in s.unicodeScalars { elements.append(.literal(scalar)) }
            default: throw CedarError(.json, "invalid `like` pattern element")
            }
        }
        self.init(elements)
    }
}

/// Readers for the JSON policy format.
enum ESTReader {
    /// The parser's expression depth bound, so every AST consumer sees the same limit.
    static let maxDepth = CedarParser.maxExpressionDepth

    static func object(_ json: JSONValue, _ what: String) throws(CedarError) -> JSONObject {
        guard case .object(let o) = json else { throw CedarError(.json, "\(what) must be an object, found \(json.kindName)") }
        return o
    }

    static func field(_ o: JSONObject, _ key: String, _ what: String) throws(CedarError) -> JSONValue {
        guard let v = o[key] else { throw CedarError(.json, "\(what) is missing `\(key)`") }
        return v
    }

    static func string(_ o: JSONObject, _ key: String, _ what: String) throws(CedarError) -> String {
        guard case .string(let s) = try self.field(o, key, what) else { throw CedarError(.json, "`\(key)` of \(what) must be a string") }
        return s
    }

    /// Rejects members other than `allowed` (Cedar's format denies unknown fields).
    static func only(_ o: JSONObject, _ allowed: Set<String>, _ what: String) throws(CedarError) {
        for (key, _) in o where !allowed.contains(key) {
            throw CedarError(.json, "unexpected field `\(key)` in \(what)")
        }
    }

    static func expr(_ json: JSONValue, depth: Int) throws(CedarError) -> Expr {
        guard depth <= self.maxDepth else { throw CedarError(.limitExceeded, "expression nested deeper than \(self.maxDepth) levels") }
        guard case .object(let o) = json, o.count == 1, let (key, body) = o.first else {
            throw CedarError(.json, "an expression must be an object with exactly one member, found \(json.kindName)")
        }
        let d = depth + 1
        func unary() throws(CedarError) -> Expr {
            let a = try self.object(body, "`\(key)`")
            try self.only(a, ["arg"], "`\(key)`")
            return try self.expr(try self.field(a, "arg", "`\(key)`"), depth: d)
        }
        func binary() throws(CedarError) -> (Expr, Expr) {
            let a = try self.object(body, "`\(key)`")
            try self.only(a, ["left", "right"], "`\(key)`")
            return (try self.expr(try self.field(a, "left", "`\(key)`"), depth: d), try self.expr(try self.field(a, "right", "`\(key)`"), depth: d))
        }
        func attr() throws(CedarError) -> (Expr, String) {
            let a = try self.object(body, "`\(key)`")
            try self.only(a, ["left", "attr"], "`\(key)`")
            return (try self.expr(try self.field(a, "left", "`\(key)`"), depth: d), try self.string(a, "attr", "`\(key)`"))
        }
        switch key {
        case "Value": return try self.valueExpr(body, depth: d)
        case "Var":
            guard case .string(let name) = body, let v = Variable(rawValue: name) else { throw CedarError(.json, "invalid variable \(body)") }
            return Expr(.variable(v))
        case "Slot":
            guard case .string(let name) = body, let s = SlotID(rawValue: name) else { throw CedarError(.json, "invalid slot \(body)") }
            return Expr(.slot(s))
        case "!": return Expr(.not(try unary()))
        case "neg": return Expr(.negate(try unary()))
        case "isEmpty": return Expr(.isEmpty(try unary()))
        case "&&":
            let (l, r) = try binary()
            return Expr(.and(l, r))
        case "||":
            let (l, r) = try binary()
            return Expr(.or(l, r))
        case ".":
            let (e, a) = try attr()
            return Expr(.getAttr(e, a))
        case "has":
            let (e, a) = try attr()
            return Expr(.hasAttr(e, a))
        case "like":
            let a = try self.object(body, "`like`")
            try self.only(a, ["left", "pattern"], "`like`")
            return Expr(.like(try self.expr(try self.field(a, "left", "`like`"), depth: d), try Pattern(json: try self.field(a, "pattern", "`like`"))))
        case "is":
            let a = try self.object(body, "`is`")
            try self.only(a, ["left", "entity_type", "in"], "`is`")
            let left = try self.expr(try self.field(a, "left", "`is`"), depth: d)
            let type = try JSONBridge.entityType(try self.string(a, "entity_type", "`is`"))
            let inExpr: Expr? = try a["in"].map { (j: JSONValue) throws(CedarError) in try self.expr(j, depth: d) }
            return Expr(.isType(left, type, in: inExpr))
        case "if-then-else":
            let a = try self.object(body, "`if-then-else`")
            try self.only(a, ["if", "then", "else"], "`if-then-else`")
            return Expr(
                .ifThenElse(
                    try self.expr(try self.field(a, "if", "`if-then-else`"), depth: d),
                    try self.expr(try self.field(a, "then", "`if-then-else`"), depth: d),
                    try self.expr(try self.field(a, "else", "`if-then-else`"), depth: d)))
        case "Set":
            guard case .array(let items) = body else { throw CedarError(.json, "`Set` must hold an array") }
            var out: [Expr] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try self.expr(item, depth: d)) }
            return Expr(.set(out))
        case "Record":
            let a = try self.object(body, "`Record`")
            var entries: [RecordEntry] = []
            for (k, v) in a { entries.append(RecordEntry(key: k, value: try self.expr(v, depth: d))) }
            return Expr(.record(entries))
        default:
            if let op = BinaryOp.byESTName[key] {
                let (l, r) = try binary()
                return Expr(.binary(op, l, r))
            }
            if let fn = ExtensionFunction(rawValue: key) {
                guard case .array(let items) = body else { throw CedarError(.json, "arguments of `\(key)` must be an array") }
                // Arity is not checked here: Cedar parses wrong-arity calls and reports them when evaluating.
                var args: [Expr] = []
                for item in items { args.append(try self.expr(item, depth: d)) }
                return Expr(.call(fn, args))
            }
            throw CedarError(.json, "unknown expression kind `\(key)`")
        }
    }

    /// `{"Value": v}`: literals stay literals; sets, records and extension values become the
    /// expressions that build them.
    static func valueExpr(_ json: JSONValue, depth: Int) throws(CedarError) -> Expr {
        guard depth <= self.maxDepth else { throw CedarError(.limitExceeded, "expression nested deeper than \(self.maxDepth) levels") }
        switch json {
        case .bool(let b): return Expr(.literal(.bool(b)))
        case .int(let i): return Expr(.literal(.long(i)))
        case .string(let s): return Expr(.literal(.string(s)))
        case .null, .double: throw CedarError(.json, "invalid literal value \(json.kindName)")
        case .array(let items):
            var out: [Expr] = []
            for item in items { out.append(try self.valueExpr(item, depth: depth + 1)) }
            return Expr(.set(out))
        case .object(let o):
            if o["__entity"] != nil { return Expr(.literal(.entity(try EntityUID(json: json)))) }
            if case .object(let call)? = o["__extn"] {
                guard case .string(let name)? = call["fn"], let fn = ExtensionFunction(rawValue: name) else {
                    throw CedarError(.json, "`__extn` needs a known extension function in `fn`")
                }
                var args: [Expr] = []
                if let arg = call["arg"] {
                    args.append(try self.valueExpr(arg, depth: depth + 1))
                } else if case .array(let items)? = call["args"] {
                    for item in items { args.append(try self.valueExpr(item, depth: depth + 1)) }
                }
                return Expr(.call(fn, args))
            }
            var entries: [RecordEntry] = []
            for (k, v) in o { entries.append(RecordEntry(key: k, value: try self.valueExpr(v, depth: depth + 1))) }
            return Expr(.record(entries))
        }
    }
}
