/// Compiles expressions into closures, folding constant subexpressions.
///
/// Every closure implements exactly the semantics of the tree-walking definition (operands left to
/// right, short-circuit `&&`/`||`/`if`, type errors only for evaluated operands). A subexpression is
/// folded only when it reads neither the request nor the entity store and evaluates without error;
/// erroring constant subexpressions stay code so that the error surfaces when (and if) evaluated.
///
/// Expressions nested deeper than ``maxDepth`` (the parsers stop at 128 levels; only ASTs built in
/// code can go deeper) compile to code that throws `.limitExceeded`, so neither compiling nor
/// evaluating them can exhaust the stack.
final class ExprCompiler {
    /// How deeply compile calls may nest (about one or two per expression level).
    static let maxDepth = 512
    private var depth = 0

    // MARK: values

    func compile(_ expr: Expr) -> Compiled {
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maxDepth else { return .code(Self.tooDeep) }
        switch expr.kind {
        case .literal(let v):
            return .constant(v)
        case .variable(let v):
            switch v {
            case .principal: return .code { env in .entity(env.request.principal) }
            case .action: return .code { env in .entity(env.request.action) }
            case .resource: return .code { env in .entity(env.request.resource) }
            case .context: return .code { env in .record(env.request.context) }
            }
        case .slot(let s):
            return .code { _ throws(CedarError) in throw CedarError(.unlinkedSlot, "template slot `\(s.rawValue)` is not linked") }
        case .not, .and, .or, .like, .isType, .isEmpty, .hasAttr:
            return self.boxed(self.compileBool(expr))
        case .binary(let op, let l, let r):
            return self.compileBinary(op, l, r, whole: expr)
        case .negate(let e):
            let c = self.compile(e)
            return self.fold(pure: c.constant != nil) { env throws(CedarError) in try Operators.negate(c.run(env)) }
        case .ifThenElse(let cond, let a, let b):
            let cc = self.compileBool(cond)
            let ca = self.compile(a)
            let cb = self.compile(b)
            if case .constant(let t) = cc { return t ? ca : cb }
            let test = cc.code
            let then = ca.code
            let other = cb.code
            return .code { env throws(CedarError) in try test(env) ? try then(env) : try other(env) }
        case .getAttr(let e, let name):
            return self.compileGetAttr(e, name)
        case .set(let elements):
            let parts = elements.map { self.compile($0) }
            return self.fold(pure: parts.allSatisfy { $0.constant != nil }) { env throws(CedarError) in
                var s = Set<Value>(minimumCapacity: parts.count)
                for p in parts { s.insert(try p.run(env)) }
                return .set(s)
            }
        case .record(let entries):
            let parts = entries.map { ($0.key, self.compile($0.value)) }
            return self.fold(pure: parts.allSatisfy { $0.1.constant != nil }) { env throws(CedarError) in
                var r = [String: Value](minimumCapacity: parts.count)
                for (k, p) in parts { r[k] = try p.run(env) }
                return .record(r)
            }
        case .call(let fn, let args):
            let parts = args.map { self.compile($0) }
            let pure = parts.allSatisfy { $0.constant != nil }
            switch parts.count {
            case 1:
                let a = parts[0]
                return self.fold(pure: pure) { env throws(CedarError) in try fn.apply1(a.run(env)) }
            case 2:
                let a = parts[0]
                let b = parts[1]
                return self.fold(pure: pure) { env throws(CedarError) in
                    let x = try a.run(env)
                    return try fn.apply2(x, try b.run(env))
                }
            default:
                return self.fold(pure: pure) { env throws(CedarError) in
                    var values: [Value] = []
                    for p in parts { values.append(try p.run(env)) }
                    return try fn.apply(values)
                }
            }
        }
    }

    private static let tooDeep: ValueCode = { _ throws(CedarError) in
        throw CedarError(.limitExceeded, "expression is nested more than \(ExprCompiler.maxDepth / 2) levels deep")
    }

    /// Runs `code` once at compile time if its inputs are constant; keeps it as code if that fails.
    private func fold(pure: Bool, _ code: @escaping ValueCode) -> Compiled {
        if pure, let v = try? code(EvalEnv.folding) { return .constant(v) }
        return .code(code)
    }

    private func foldBool(pure: Bool, _ code: @escaping BoolCode) -> CompiledBool {
        if pure, let v = try? code(EvalEnv.folding) { return .constant(v) }
        return .code(code)
    }

    private func boxed(_ c: CompiledBool) -> Compiled {
        switch c {
        case .constant(let b): .constant(.bool(b))
        case .code(let code): .code { env throws(CedarError) in .bool(try code(env)) }
        }
    }

    private func compileGetAttr(_ e: Expr, _ name: String) -> Compiled {
        if case .variable(let v) = e.kind {
            switch v {
            case .context:
                return .code { env throws(CedarError) in
                    guard let x = env.request.context[name] else { throw TypeCheck.recordAttributeNotFound(name) }
                    return x
                }
            case .principal:
                return .code { env throws(CedarError) in
                    guard let entity = env.principalEntity else { throw TypeCheck.entityNotFound(env.request.principal) }
                    guard let x = entity.attributes[name] else { throw TypeCheck.attributeNotFound(env.request.principal, name) }
                    return x
                }
            case .resource:
                return .code { env throws(CedarError) in
                    guard let entity = env.resourceEntity else { throw TypeCheck.entityNotFound(env.request.resource) }
                    guard let x = entity.attributes[name] else { throw TypeCheck.attributeNotFound(env.request.resource, name) }
                    return x
                }
            case .action:
                return .code { env throws(CedarError) in try Operators.attribute(of: env.request.action, name, in: env.entities) }
            }
        }
        let c = self.compile(e)
        var pure = false
        if case .constant(let v) = c, case .record = v { pure = true }
        return self.fold(pure: pure) { env throws(CedarError) in try Operators.attribute(of: c.run(env), name, in: env.entities) }
    }

    /// `principal.getTag("k")` / `resource.getTag("k")` with a literal key.
    private func compileGetTag(_ v: Variable, _ key: String) -> Compiled? {
        switch v {
        case .principal:
            return .code { env throws(CedarError) in
                guard let entity = env.principalEntity else { throw TypeCheck.entityNotFound(env.request.principal) }
                guard let x = entity.tags[key] else { throw TypeCheck.tagNotFound(env.request.principal, key) }
                return x
            }
        case .resource:
            return .code { env throws(CedarError) in
                guard let entity = env.resourceEntity else { throw TypeCheck.entityNotFound(env.request.resource) }
                guard let x = entity.tags[key] else { throw TypeCheck.tagNotFound(env.request.resource, key) }
                return x
            }
        default:
            return nil
        }
    }

    private func compileBinary(_ op: BinaryOp, _ l: Expr, _ r: Expr, whole: Expr) -> Compiled {
        switch op {
        case .add, .sub, .mul:
            let a = self.compile(l)
            let b = self.compile(r)
            let pure = a.constant != nil && b.constant != nil
            switch op {
            case .add:
                return self.fold(pure: pure) { env throws(CedarError) in
                    let x = try a.run(env)
                    return try Operators.add(x, b.run(env))
                }
            case .sub:
                return self.fold(pure: pure) { env throws(CedarError) in
                    let x = try a.run(env)
                    return try Operators.subtract(x, b.run(env))
                }
            default:
                return self.fold(pure: pure) { env throws(CedarError) in
                    let x = try a.run(env)
                    return try Operators.multiply(x, b.run(env))
                }
            }
        case .getTag:
            if case .variable(let v) = l.kind, case .literal(.string(let key)) = r.kind, let fast = self.compileGetTag(v, key) {
                return fast
            }
            let a = self.compile(l)
            let b = self.compile(r)
            return .code { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.getTag(x, b.run(env), in: env.entities)
            }
        default:
            return self.boxed(self.compileBool(whole))
        }
    }

    // MARK: booleans

    func compileBool(_ expr: Expr) -> CompiledBool {
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maxDepth else { return .code { env throws(CedarError) in try Operators.bool(Self.tooDeep(env)) } }
        switch expr.kind {
        case .literal(let v):
            if case .bool(let b) = v { return .constant(b) }
            return .code { _ throws(CedarError) in throw TypeCheck.mismatch("bool", v) }
        case .and(let l, let r):
            let a = self.compileBool(l)
            let b = self.compileBool(r)
            switch (a, b) {
            case (.constant(false), _): return .constant(false)
            case (.constant(true), _): return b
            case (.code(let x), .constant(let y)): return .code { env throws(CedarError) in try x(env) && y }
            case (.code(let x), .code(let y)): return .code { env throws(CedarError) in try x(env) ? try y(env) : false }
            }
        case .or(let l, let r):
            let a = self.compileBool(l)
            let b = self.compileBool(r)
            switch (a, b) {
            case (.constant(true), _): return .constant(true)
            case (.constant(false), _): return b
            case (.code(let x), .constant(let y)): return .code { env throws(CedarError) in try x(env) || y }
            case (.code(let x), .code(let y)): return .code { env throws(CedarError) in try x(env) ? true : try y(env) }
            }
        case .not(let e):
            switch self.compileBool(e) {
            case .constant(let b): return .constant(!b)
            case .code(let c): return .code { env throws(CedarError) in !(try c(env)) }
            }
        case .binary(let op, let l, let r):
            return self.compileBoolBinary(op, l, r, whole: expr)
        case .hasAttr(let e, let name):
            if case .variable(let v) = e.kind {
                switch v {
                case .context: return .code { env in env.request.context[name] != nil }
                case .principal: return .code { env in env.principalEntity?.attributes[name] != nil }
                case .action: return .code { env in Operators.has(env.request.action, name, in: env.entities) }
                case .resource: return .code { env in env.resourceEntity?.attributes[name] != nil }
                }
            }
            let c = self.compile(e)
            var pure = false
            if case .constant(let v) = c, case .record = v { pure = true }
            return self.foldBool(pure: pure) { env throws(CedarError) in try Operators.has(c.run(env), name, in: env.entities) }
        case .like(let e, let pattern):
            let c = self.compile(e)
            let pat: [Unicode.Scalar?] = pattern.elements.map {
                if case .literal(let s) = $0 { return s }
                return nil
            }
            return self.foldBool(pure: c.constant != nil) { env throws(CedarError) in try Operators.like(Operators.string(c.run(env)), pat) }
        case .isType(let e, let type, let inExpr):
            let c = self.compile(e)
            guard let inExpr else {
                return self.foldBool(pure: c.constant != nil) { env throws(CedarError) in try Operators.entity(c.run(env)).type == type }
            }
            let target = self.compile(inExpr)
            return .code { env throws(CedarError) in
                let uid = try Operators.entity(c.run(env))
                guard uid.type == type else { return false }
                return try Operators.isIn(uid, target.run(env), in: env.entities)
            }
        case .isEmpty(let e):
            let c = self.compile(e)
            return self.foldBool(pure: c.constant != nil) { env throws(CedarError) in try Operators.set(c.run(env)).isEmpty }
        default:
            let c = self.compile(expr)
            if case .constant(.bool(let b)) = c { return .constant(b) }
            return .code { env throws(CedarError) in try Operators.bool(c.run(env)) }
        }
    }

    private func compileBoolBinary(_ op: BinaryOp, _ l: Expr, _ r: Expr, whole: Expr) -> CompiledBool {
        let a = self.compile(l)
        let b = self.compile(r)
        let pure = a.constant != nil && b.constant != nil
        switch op {
        case .eq, .neq:
            let negate = op == .neq
            switch (a, b) {
            case (.constant(let x), .constant(let y)): return .constant((x == y) != negate)
            case (.code(let x), .constant(let y)), (.constant(let y), .code(let x)):
                // Evaluation order does not matter when one side is a constant.
                return negate ? .code { env throws(CedarError) in try x(env) != y } : .code { env throws(CedarError) in try x(env) == y }
            case (.code(let x), .code(let y)):
                return .code { env throws(CedarError) in
                    let u = try x(env)
                    return (u == (try y(env))) != negate
                }
            }
        case .lt:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.lessThan(x, b.run(env), orEqual: false)
            }
        case .le:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.lessThan(x, b.run(env), orEqual: true)
            }
        case .gt:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                let y = try b.run(env)
                return try Self.greater(x, y, orEqual: false)
            }
        case .ge:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                let y = try b.run(env)
                return try Self.greater(x, y, orEqual: true)
            }
        case .in:
            // Fast paths for a literal entity or literal set of entities on the right.
            if case .constant(.entity(let target)) = b {
                if case .variable(let v) = l.kind, v != .context {
                    return .code { env in env.isDescendant(v, of: target) }
                }
                return .code { env throws(CedarError) in env.entities.isDescendant(try Operators.entity(a.run(env)), of: target) }
            }
            if case .constant(.set(let set)) = b, case .variable(let v) = l.kind, v != .context {
                let targets = set.compactMap(\.entityUID)
                if targets.count == set.count {
                    return .code { env in targets.contains { env.isDescendant(v, of: $0) } }
                }
            }
            return .code { env throws(CedarError) in
                let x = try Operators.entity(a.run(env))
                return try Operators.isIn(x, b.run(env), in: env.entities)
            }
        case .contains:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.contains(x, b.run(env))
            }
        case .containsAll:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.containsAll(x, b.run(env))
            }
        case .containsAny:
            return self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.containsAny(x, b.run(env))
            }
        case .hasTag:
            if case .variable(let v) = l.kind, case .constant(.string(let key)) = b {
                switch v {
                case .principal: return .code { env in env.principalEntity?.tags[key] != nil }
                case .resource: return .code { env in env.resourceEntity?.tags[key] != nil }
                default: break
                }
            }
            return .code { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.hasTag(x, b.run(env), in: env.entities)
            }
        case .add, .sub, .mul, .getTag:
            let c = self.compileBinary(op, l, r, whole: whole)
            return .code { env throws(CedarError) in try Operators.bool(c.run(env)) }
        }
    }

    /// `x > y` is `y < x` with the operand type errors reported as for `x`.
    private static func greater(_ x: Value, _ y: Value, orEqual: Bool) throws(CedarError) -> Bool {
        switch (x, y) {
        case (.long(let a), .long(let b)): return orEqual ? a >= b : a > b
        default: return !(try Operators.lessThan(x, y, orEqual: !orEqual))
        }
    }
}
