extension CedarFormatter {
    /// Binding strength of an expression as written; a child printed where a stronger one is
    /// required gets parentheses.
    enum Level: Int, Comparable {
        case ifThenElse, or, and, relation, add, mul, unary, member, primary
        static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    static func level(_ expr: Expr) -> Level {
        switch expr.kind {
        case .ifThenElse: .ifThenElse
        case .or: .or
        case .and: self.hasPathParts(expr) != nil ? .relation : .and
        case .binary(let op, _, _):
            switch op {
            case .eq, .neq, .lt, .le, .gt, .ge, .in: .relation
            case .add, .sub: .add
            case .mul: .mul
            case .contains, .containsAll, .containsAny, .hasTag, .getTag: .member
            }
        case .hasAttr, .like, .isType: .relation
        case .not, .negate: .unary
        case .literal(.long(let v)) where v < 0: .unary
        case .getAttr, .isEmpty: .member
        case .call(let f, let args): f.isMethod && !args.isEmpty ? .member : .primary
        case .literal, .variable, .slot, .set, .record: .primary
        }
    }

    /// The document for `expr`, parenthesised if it binds less tightly than `minimum`.
    static func doc(_ expr: Expr, _ minimum: Level) -> Doc {
        let inner = self.doc(expr)
        guard self.level(expr) < minimum else { return inner }
        return .group(.text("(") + .nest(1, inner) + .text(")"))
    }

    /// Dispatches on the node kind. Each case lives in its own small function so the recursion
    /// through this one stays cheap in debug builds (deep trees are walked on small stacks).
    static func doc(_ expr: Expr) -> Doc {
        switch expr.kind {
        case .literal(let value): .text(self.literal(value))
        case .variable(let v): .text(v.rawValue)
        case .slot(let s): .text(s.rawValue)
        case .ifThenElse(let c, let t, let e): self.ifThenElse(c, t, e)
        case .or, .and: self.hasPath(expr) ?? self.chain(expr)
        case .binary(let op, let l, let r): self.binary(expr, op, l, r)
        case .not, .negate: self.unary(expr)
        case .getAttr(let e, let attr): self.getAttr(e, attr)
        case .hasAttr(let e, let attr): self.suffixed(e, " has " + self.attributeName(attr))
        case .like(let e, let pattern): self.suffixed(e, " like " + self.pattern(pattern))
        case .isType(let e, let type, let inExpr): self.isType(e, type, inExpr)
        case .isEmpty(let e): self.methodCall(e, "isEmpty", [])
        case .set(let items): self.setLiteral(items)
        case .record(let entries): self.recordLiteral(entries)
        case .call(let f, let args): self.call(f, args)
        }
    }

    private static func ifThenElse(_ c: Expr, _ t: Expr, _ e: Expr) -> Doc {
        let condition = self.doc(c, .ifThenElse)
        let then = self.doc(t, .ifThenElse)
        let otherwise = self.doc(e, .ifThenElse)
        return .group(
            .text("if") + .nest(2, .line + condition) + .line + .text("then") + .nest(2, .line + then) + .line + .text("else")
                + .nest(2, .line + otherwise))
    }

    private static func binary(_ expr: Expr, _ op: BinaryOp, _ l: Expr, _ r: Expr) -> Doc {
        switch op {
        case .add, .sub, .mul:
            return self.chain(expr)
        case .eq, .neq, .lt, .le, .gt, .ge, .in:
            let lhs = self.doc(l, .add)
            let rhs = self.doc(r, .add)
            return .concat([lhs, .text(" \(op.rawValue) "), rhs])
        case .contains, .containsAll, .containsAny, .hasTag, .getTag:
            return self.methodCall(l, self.methodName(op), [r])
        }
    }

    private static func getAttr(_ e: Expr, _ attr: String) -> Doc {
        let receiver = self.receiver(e)
        if CedarParser.isValidIdentifier(attr) { return receiver + .text(".\(attr)") }
        return receiver + .text("[\(CedarText.quoted(attr))]")
    }

    /// `e` at `Add` level followed by fixed text (`has a`, `like "…"`).
    private static func suffixed(_ e: Expr, _ suffix: String) -> Doc {
        self.doc(e, .add) + .text(suffix)
    }

    private static func isType(_ e: Expr, _ type: EntityType, _ inExpr: Expr?) -> Doc {
        let lhs = self.doc(e, .add) + .text(" is \(type.name)")
        guard let inExpr else { return lhs }
        return lhs + .text(" in ") + self.doc(inExpr, .add)
    }

    private static func setLiteral(_ items: [Expr]) -> Doc {
        var docs: [Doc] = []
        docs.reserveCapacity(items.count)
        for item in items { docs.append(self.doc(item, .ifThenElse)) }
        return self.set(docs)
    }

    private static func recordLiteral(_ entries: [RecordEntry]) -> Doc {
        var docs: [(String, Doc)] = []
        docs.reserveCapacity(entries.count)
        for entry in entries { docs.append((self.attributeName(entry.key), self.doc(entry.value, .ifThenElse))) }
        return self.record(docs)
    }

    private static func call(_ f: ExtensionFunction, _ args: [Expr]) -> Doc {
        if f.isMethod, let receiver = args.first {
            return self.methodCall(receiver, f.rawValue, Array(args.dropFirst()))
        }
        return self.arguments(f.rawValue, args)
    }

    private static func methodName(_ op: BinaryOp) -> String {
        switch op {
        case .contains: "contains"
        case .containsAll: "containsAll"
        case .containsAny: "containsAny"
        case .hasTag: "hasTag"
        case .getTag: "getTag"
        default: op.rawValue
        }
    }

    /// A member-access receiver: negative literals need parentheses (`(-1).foo`).
    private static func receiver(_ e: Expr) -> Doc {
        self.doc(e, .member)
    }

    private static func methodCall(_ receiver: Expr, _ name: String, _ args: [Expr]) -> Doc {
        self.receiver(receiver) + .text(".") + self.arguments(name, args)
    }

    private static func arguments(_ name: String, _ args: [Expr]) -> Doc {
        if args.isEmpty { return .text("\(name)()") }
        var items: [Doc] = []
        items.reserveCapacity(args.count)
        for arg in args { items.append(self.doc(arg, .ifThenElse)) }
        return .group(.text("\(name)(") + .nest(2, .softline + .join(items, .text(",") + .line)) + .softline + .text(")"))
    }

    static func set(_ items: [Doc]) -> Doc {
        if items.isEmpty { return .text("[]") }
        return .group(.text("[") + .nest(1, .join(items, .text(",") + .line)) + .text("]"))
    }

    private static func record(_ entries: [(String, Doc)]) -> Doc {
        if entries.isEmpty { return .text("{}") }
        let items = entries.map { Doc.text("\($0.0): ") + $0.1 }
        return .group(.text("{") + .nest(2, .line + .join(items, .text(",") + .line)) + .line + .text("}"))
    }

    /// A left-associative chain of `||`, `&&`, `+`/`-` or `*`, broken after each operator.
    private static func chain(_ expr: Expr) -> Doc {
        let level = self.level(expr)
        var operands: [Expr] = []
        var operators: [String] = []
        var cursor = expr
        // Walk down the left spine while it is the same operator family.
        while true {
            switch cursor.kind {
            case .or(let l, let r) where level == .or:
                operands.append(r)
                operators.append("||")
                cursor = l
                continue
            case .and(let l, let r) where level == .and && self.hasPathParts(cursor) == nil:
                operands.append(r)
                operators.append("&&")
                cursor = l
                continue
            case .binary(let op, let l, let r) where self.level(cursor) == level && level != .relation:
                operands.append(r)
                operators.append(op.rawValue)
                cursor = l
                continue
            default:
                break
            }
            break
        }
        guard let tighter = Level(rawValue: level.rawValue + 1) else { return self.doc(cursor) }
        var parts: [Doc] = [self.doc(cursor, level)]
        for (operand, op) in zip(operands.reversed(), operators.reversed()) {
            parts.append(.text(" \(op)"))
            parts.append(.line)
            parts.append(self.doc(operand, tighter))
        }
        return .group(.concat(parts))
    }

    /// `!`/`-` runs (at most four in a row, as Cedar allows), keeping negated literals exact.
    private static func unary(_ expr: Expr) -> Doc {
        var count = 0
        var operand = expr
        let isNot: Bool
        if case .not = expr.kind { isNot = true } else { isNot = false }
        while count < 4 {
            if isNot, case .not(let inner) = operand.kind {
                operand = inner
            } else if !isNot, case .negate(let inner) = operand.kind {
                operand = inner
            } else {
                break
            }
            count += 1
        }
        let ops = String(repeating: isNot ? "!" : "-", count: count)
        if !isNot, case .literal(.long(let v)) = operand.kind {
            // `-5` is the literal -5, so a negated non-negative literal needs parentheses, and a
            // negative literal may only join the run while the run stays at four or fewer dashes.
            if v >= 0 || count + 1 > 4 { return .text("\(ops)(\(v))") }
            return .text("\(ops)\(v)")
        }
        return .text(ops) + self.doc(operand, .member)
    }

    /// Re-sugars Cedar 4's expansion of `e has a.b.c` back into that form.
    private static func hasPath(_ expr: Expr) -> Doc? {
        guard let (base, path) = self.hasPathParts(expr) else { return nil }
        return self.doc(base, .add) + .text(" has " + path.joined(separator: "."))
    }

    /// If `expr` is exactly the expansion of `base has a.b…` (all identifiers), its parts.
    static func hasPathParts(_ expr: Expr) -> (Expr, [String])? {
        guard case .and(let lhs, let rhs) = expr.kind, case .hasAttr(let chain, let last) = rhs.kind,
            CedarParser.isValidIdentifier(last)
        else { return nil }
        var prefix: [String] = []
        var cursor = chain
        while case .getAttr(let inner, let attr) = cursor.kind {
            guard CedarParser.isValidIdentifier(attr) else { return nil }
            prefix.insert(attr, at: 0)
            cursor = inner
            // `cursor` is a candidate base with path `prefix + [last]`.
            if lhs == self.hasExpansion(cursor, prefix) { return (cursor, prefix + [last]) }
        }
        return nil
    }

    /// The expression Cedar builds for `base has path` (path non-empty).
    private static func hasExpansion(_ base: Expr, _ path: [String]) -> Expr {
        var result = Expr(.hasAttr(base, path[0]))
        var receiver = base
        for i in 1..<path.count {
            receiver = Expr(.getAttr(receiver, path[i - 1]))
            result = Expr(.and(result, Expr(.hasAttr(receiver, path[i]))))
        }
        return result
    }

    static func attributeName(_ name: String) -> String {
        CedarParser.isValidIdentifier(name) ? name : CedarText.quoted(name)
    }

    static func pattern(_ pattern: Pattern) -> String {
        // Work on scalars: a combining mark must not merge with a quote and get dropped.
        var out = String.UnicodeScalarView()
        out.append("\"")
        for element in pattern.elements {
            switch element {
            case .wildcard: out.append("*")
            case .literal("*"): out.append(contentsOf: "\\*".unicodeScalars)
            case .literal(let s):
                let quoted = CedarText.quoted(String(String.UnicodeScalarView([s]))).unicodeScalars
                out.append(contentsOf: quoted.dropFirst().dropLast())
            }
        }
        out.append("\"")
        return String(out)
    }

    static func literal(_ value: Value) -> String {
        switch value {
        case .bool(let b): return b ? "true" : "false"
        case .long(let v): return String(v)
        case .string(let s): return CedarText.quoted(s)
        case .entity(let uid): return uid.description
        case .set(let items): return "[" + items.map(self.literal).sorted().joined(separator: ", ") + "]"
        case .record(let fields):
            if fields.isEmpty { return "{}" }
            let items = fields.keys.sorted().map { "\(self.attributeName($0)): \(self.literal(fields[$0] ?? .bool(false)))" }
            return "{ " + items.joined(separator: ", ") + " }"
        case .ext(let ext): return self.extensionLiteral(ext)
        }
    }

    /// An extension value as the call that makes it (`decimal("1.5000")`, `ip("10.0.0.0/8")`, …).
    private static func extensionLiteral(_ ext: ExtensionValue) -> String {
        switch ext {
        case .decimal(let d): "decimal(\(CedarText.quoted(d.description)))"
        case .ipaddr(let ip): "ip(\(CedarText.quoted(ip.description)))"
        case .datetime(let dt): "datetime(\(CedarText.quoted(dt.description)))"
        case .duration(let d): "duration(\(CedarText.quoted(d.description)))"
        }
    }
}
