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
            switch try ValueEscape(o) {
            case .entity(let uid): return Expr(.literal(.entity(uid)))
            case .extension(let name, let args):
                guard let fn = ExtensionFunction(name: name) else { throw CedarError(.json, "extension function `\(name)` does not exist") }
                var exprs: [Expr] = []
                for a in args { exprs.append(try self.valueExpr(a, depth: depth + 1)) }
                return Expr(.call(fn, exprs))
            case nil: break
            }
            var entries: [RecordEntry] = []
            for (k, v) in o { entries.append(RecordEntry(key: k, value: try self.valueExpr(v, depth: depth + 1))) }
            return Expr(.record(entries))
        }
    }
}
