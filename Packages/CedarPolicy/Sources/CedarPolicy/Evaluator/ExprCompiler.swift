/// Compiles expressions into closures, folding constant subexpressions.
///
/// Every closure implements exactly the semantics of the tree-walking definition (operands left to
/// right, short-circuit `&&`/`||`/`if`, type errors only for evaluated operands). A subexpression is
/// folded only when it reads neither the request nor the entity store and evaluates without error;
/// erroring constant subexpressions stay code so that the error surfaces when (and if) evaluated.
///
/// Stack use: the recursive functions (`compile`, `compileBool` and the `compileX` helpers that
/// compile children) only dispatch and compile children; the closures are built afterwards by
/// non-recursive `@inline(never)` static builders, so each nesting level costs a few small frames
/// even in debug builds. Chains of `&&` or of `||` (nested either way) are flattened into one
/// operand array and evaluated in a loop, so their length does not count as depth.
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
        // No payload bindings here: in debug builds each one takes stack in this (recursive) frame.
        let kind = expr.kind
        switch kind {
        case .literal, .variable, .slot: return Self.leaf(kind)
        case .not, .and, .or, .like, .isType, .isEmpty, .hasAttr: return Self.boxed(self.compileBool(expr))
        case .binary: return Self.isValued(kind) ? self.compileBinary(kind) : Self.boxed(self.compileBool(expr))
        case .negate: return self.compileNegate(kind)
        case .ifThenElse: return self.compileIf(kind)
        case .getAttr: return self.compileGetAttr(kind)
        case .set: return self.compileSet(kind)
        case .record: return self.compileRecord(kind)
        case .call: return self.compileCall(kind)
        }
    }

    /// Called when a helper is handed a kind its caller's `switch` does not send it (not reached).
    private static func mismatch(_ function: StaticString = #function) -> Never {
        preconditionFailure("ExprCompiler.\(function): unexpected expression kind")
    }

    @inline(never) private static func leaf(_ kind: Expr.Kind) -> Compiled {
        switch kind {
        case .literal(let v): .constant(v)
        case .variable(let v): Self.variable(v)
        case .slot(let s): Self.slot(s)
        default: Self.mismatch()
        }
    }

    @inline(never) private static func isValued(_ kind: Expr.Kind) -> Bool {
        guard case .binary(let op, _, _) = kind else { return false }
        return op == .add || op == .sub || op == .mul || op == .getTag
    }

    private static let tooDeep: ValueCode = { _ throws(CedarError) in
        throw CedarError(.limitExceeded, "expression is nested more than \(ExprCompiler.maxDepth / 2) levels deep")
    }

    /// Runs `code` once at compile time if its inputs are constant; keeps it as code if that fails.
    private static func fold(pure: Bool, _ code: @escaping ValueCode) -> Compiled {
        if pure, let v = try? code(EvalEnv.folding) { return .constant(v) }
        return .code(code)
    }

    private static func foldBool(pure: Bool, _ code: @escaping BoolCode) -> CompiledBool {
        if pure, let v = try? code(EvalEnv.folding) { return .constant(v) }
        return .code(code)
    }

    @inline(never) private static func boxed(_ c: CompiledBool) -> Compiled {
        switch c {
        case .constant(let b): .constant(.bool(b))
        case .code(let code): .code { env throws(CedarError) in .bool(try code(env)) }
        }
    }

    @inline(never) private static func variable(_ v: Variable) -> Compiled {
        switch v {
        case .principal: .code { env in .entity(env.request.principal) }
        case .action: .code { env in .entity(env.request.action) }
        case .resource: .code { env in .entity(env.request.resource) }
        case .context: .code { env in .record(env.request.context) }
        }
    }

    @inline(never) private static func slot(_ s: SlotID) -> Compiled {
        .code { _ throws(CedarError) in throw CedarError(.unlinkedSlot, "template slot `\(s.rawValue)` is not linked") }
    }

    @inline(never) private func compileNegate(_ kind: Expr.Kind) -> Compiled {
        guard case .negate(let e) = kind else { Self.mismatch() }
        return Self.negate(self.compile(e))
    }

    @inline(never) private static func negate(_ c: Compiled) -> Compiled {
        Self.fold(pure: c.constant != nil) { env throws(CedarError) in try Operators.negate(c.run(env)) }
    }

    @inline(never) private func compileIf(_ kind: Expr.Kind) -> Compiled {
        guard case .ifThenElse(let cond, let a, let b) = kind else { Self.mismatch() }
        let cc = self.compileBool(cond)
        let ca = self.compile(a)
        return Self.ifThenElse(cc, ca, self.compile(b))
    }

    @inline(never) private static func ifThenElse(_ cc: CompiledBool, _ ca: Compiled, _ cb: Compiled) -> Compiled {
        if case .constant(let t) = cc { return t ? ca : cb }
        let test = cc.code
        let then = ca.code
        let other = cb.code
        return .code { env throws(CedarError) in try test(env) ? try then(env) : try other(env) }
    }

    @inline(never) private func compileSet(_ kind: Expr.Kind) -> Compiled {
        guard case .set(let elements) = kind else { Self.mismatch() }
        var parts: [Compiled] = []
        parts.reserveCapacity(elements.count)
        for e in elements { parts.append(self.compile(e)) }
        return Self.set(parts)
    }

    @inline(never) private static func set(_ parts: [Compiled]) -> Compiled {
        Self.fold(pure: parts.allSatisfy { $0.constant != nil }) { env throws(CedarError) in
            var s = Set<Value>(minimumCapacity: parts.count)
            for p in parts { s.insert(try p.run(env)) }
            return .set(s)
        }
    }

    @inline(never) private func compileRecord(_ kind: Expr.Kind) -> Compiled {
        guard case .record(let entries) = kind else { Self.mismatch() }
        var parts: [(String, Compiled)] = []
        parts.reserveCapacity(entries.count)
        for e in entries { parts.append((e.key, self.compile(e.value))) }
        return Self.record(parts)
    }

    @inline(never) private static func record(_ parts: [(String, Compiled)]) -> Compiled {
        Self.fold(pure: parts.allSatisfy { $0.1.constant != nil }) { env throws(CedarError) in
            var r = [String: Value](minimumCapacity: parts.count)
            for (k, p) in parts { r[k] = try p.run(env) }
            return .record(r)
        }
    }

    @inline(never) private func compileCall(_ kind: Expr.Kind) -> Compiled {
        guard case .call(let fn, let args) = kind else { Self.mismatch() }
        var parts: [Compiled] = []
        parts.reserveCapacity(args.count)
        for a in args { parts.append(self.compile(a)) }
        return Self.call(fn, parts)
    }

    @inline(never) private static func call(_ fn: ExtensionFunction, _ parts: [Compiled]) -> Compiled {
        let pure = parts.allSatisfy { $0.constant != nil }
        switch parts.count {
        case 1:
            let a = parts[0]
            return Self.fold(pure: pure) { env throws(CedarError) in try fn.apply1(a.run(env)) }
        case 2:
            let a = parts[0]
            let b = parts[1]
            return Self.fold(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try fn.apply2(x, try b.run(env))
            }
        default:
            return Self.fold(pure: pure) { env throws(CedarError) in
                var values: [Value] = []
                for p in parts { values.append(try p.run(env)) }
                return try fn.apply(values)
            }
        }
    }

    @inline(never) private func compileGetAttr(_ kind: Expr.Kind) -> Compiled {
        guard case .getAttr(let e, let name) = kind else { Self.mismatch() }
        if case .variable(let v) = e.kind { return Self.variableAttribute(v, name) }
        return Self.getAttr(self.compile(e), name)
    }

    @inline(never) private static func variableAttribute(_ v: Variable, _ name: String) -> Compiled {
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

    @inline(never) private static func getAttr(_ c: Compiled, _ name: String) -> Compiled {
        var pure = false
        if case .constant(let v) = c, case .record = v { pure = true }
        return Self.fold(pure: pure) { env throws(CedarError) in try Operators.attribute(of: c.run(env), name, in: env.entities) }
    }

    /// `principal.getTag("k")` / `resource.getTag("k")` with a literal key.
    @inline(never) private static func variableTag(_ v: Variable, _ key: String) -> Compiled? {
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

    /// `+`, `-`, `*` and `getTag` (the binary operators whose result is not a boolean).
    @inline(never) private func compileBinary(_ kind: Expr.Kind) -> Compiled {
        guard case .binary(let op, let l, let r) = kind else { Self.mismatch() }
        if op == .getTag, case .variable(let v) = l.kind, case .literal(.string(let key)) = r.kind, let fast = Self.variableTag(v, key) {
            return fast
        }
        let a = self.compile(l)
        return Self.arithmeticOrTag(op, a, self.compile(r))
    }

    @inline(never) private static func arithmetic(_ op: BinaryOp, _ a: Compiled, _ b: Compiled) -> Compiled {
        let pure = a.constant != nil && b.constant != nil
        switch op {
        case .add:
            return Self.fold(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.add(x, b.run(env))
            }
        case .sub:
            return Self.fold(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.subtract(x, b.run(env))
            }
        default:
            return Self.fold(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.multiply(x, b.run(env))
            }
        }
    }

    @inline(never) private static func getTag(_ a: Compiled, _ b: Compiled) -> Compiled {
        .code { env throws(CedarError) in
            let x = try a.run(env)
            return try Operators.getTag(x, b.run(env), in: env.entities)
        }
    }

    // MARK: booleans

    func compileBool(_ expr: Expr) -> CompiledBool {
        self.depth += 1
        defer { self.depth -= 1 }
        guard self.depth <= Self.maxDepth else { return .code(Self.tooDeepBool) }
        let kind = expr.kind
        switch kind {
        case .literal: return Self.boolLiteral(kind)
        case .and: return self.compileChain(expr, isAnd: true)
        case .or: return self.compileChain(expr, isAnd: false)
        case .not: return self.compileNot(kind)
        case .binary: return self.compileBoolBinary(kind)
        case .hasAttr: return self.compileHas(kind)
        case .like: return self.compileLike(kind)
        case .isType: return self.compileIsType(kind)
        case .isEmpty: return self.compileIsEmpty(kind)
        default: return Self.unboxed(self.compile(expr))
        }
    }

    private static let tooDeepBool: BoolCode = { env throws(CedarError) in try Operators.bool(ExprCompiler.tooDeep(env)) }

    @inline(never) private static func boolLiteral(_ kind: Expr.Kind) -> CompiledBool {
        guard case .literal(let v) = kind else { Self.mismatch() }
        if case .bool(let b) = v { return .constant(b) }
        return .code { _ throws(CedarError) in throw TypeCheck.mismatch("bool", v) }
    }

    @inline(never) private static func unboxed(_ c: Compiled) -> CompiledBool {
        if case .constant(.bool(let b)) = c { return .constant(b) }
        return .code { env throws(CedarError) in try Operators.bool(c.run(env)) }
    }

    @inline(never) private func compileNot(_ kind: Expr.Kind) -> CompiledBool {
        guard case .not(let e) = kind else { Self.mismatch() }
        return Self.not(self.compileBool(e))
    }

    @inline(never) private static func not(_ c: CompiledBool) -> CompiledBool {
        switch c {
        case .constant(let b): .constant(!b)
        case .code(let c): .code { env throws(CedarError) in !(try c(env)) }
        }
    }

    /// A maximal tree of `&&` (or of `||`) nodes, flattened into its operands left to right without
    /// recursion, each compiled separately, and evaluated by one loop.
    @inline(never) private func compileChain(_ expr: Expr, isAnd: Bool) -> CompiledBool {
        var operands: [Expr] = []
        var stack: [Expr] = [expr]
        while let e = stack.popLast() {
            switch e.kind {
            case .and(let l, let r) where isAnd:
                stack.append(r)
                stack.append(l)
            case .or(let l, let r) where !isAnd:
                stack.append(r)
                stack.append(l)
            default:
                operands.append(e)
            }
        }
        var codes: [BoolCode] = []
        for operand in operands {
            switch self.compileBool(operand) {
            case .constant(let b):
                // `true` is neutral in `&&` (`false` in `||`); the other value decides the result
                // once the operands before it have run.
                if b != isAnd { return Self.chain(codes, isAnd: isAnd, last: b) }
            case .code(let c):
                codes.append(c)
            }
        }
        return Self.chain(codes, isAnd: isAnd, last: nil)
    }

    /// Runs `codes` in order, stopping at the first that is `false` (for `&&`; `true` for `||`),
    /// which is then the result; if none stops, the result is `last`, or `isAnd` when `last` is nil.
    @inline(never) static func chain(_ codes: [BoolCode], isAnd: Bool, last: Bool?) -> CompiledBool {
        let end = last ?? isAnd
        switch (codes.count, isAnd, last) {
        case (0, _, _):
            return .constant(end)
        case (1, _, nil):
            return .code(codes[0])
        case (1, true, _):
            let x = codes[0]
            return .code { env throws(CedarError) in try x(env) && end }
        case (1, false, _):
            let x = codes[0]
            return .code { env throws(CedarError) in try x(env) || end }
        case (2, true, nil):
            let x = codes[0]
            let y = codes[1]
            return .code { env throws(CedarError) in try x(env) ? try y(env) : false }
        case (2, false, nil):
            let x = codes[0]
            let y = codes[1]
            return .code { env throws(CedarError) in try x(env) ? true : try y(env) }
        case (3, true, nil):
            let x = codes[0]
            let y = codes[1]
            let z = codes[2]
            return .code { env throws(CedarError) in try x(env) ? try y(env) ? try z(env) : false : false }
        case (3, false, nil):
            let x = codes[0]
            let y = codes[1]
            let z = codes[2]
            return .code { env throws(CedarError) in try x(env) ? true : try y(env) ? true : try z(env) }
        case (_, true, _):
            // Longer chains: a loop (a few percent slower per operand than the unrolled forms above).
            return .code { env throws(CedarError) in
                for c in codes where !(try c(env)) { return false }
                return end
            }
        case (_, false, _):
            return .code { env throws(CedarError) in
                for c in codes where try c(env) { return true }
                return end
            }
        }
    }

    @inline(never) private func compileHas(_ kind: Expr.Kind) -> CompiledBool {
        guard case .hasAttr(let e, let name) = kind else { Self.mismatch() }
        if case .variable(let v) = e.kind { return Self.variableHas(v, name) }
        return Self.has(self.compile(e), name)
    }

    @inline(never) private static func variableHas(_ v: Variable, _ name: String) -> CompiledBool {
        switch v {
        case .context: .code { env in env.request.context[name] != nil }
        case .principal: .code { env in env.principalEntity?.attributes[name] != nil }
        case .action: .code { env in Operators.has(env.request.action, name, in: env.entities) }
        case .resource: .code { env in env.resourceEntity?.attributes[name] != nil }
        }
    }

    @inline(never) private static func has(_ c: Compiled, _ name: String) -> CompiledBool {
        var pure = false
        if case .constant(let v) = c, case .record = v { pure = true }
        return Self.foldBool(pure: pure) { env throws(CedarError) in try Operators.has(c.run(env), name, in: env.entities) }
    }

    @inline(never) private func compileLike(_ kind: Expr.Kind) -> CompiledBool {
        guard case .like(let e, let pattern) = kind else { Self.mismatch() }
        return Self.like(self.compile(e), pattern)
    }

    @inline(never) private static func like(_ c: Compiled, _ pattern: Pattern) -> CompiledBool {
        let pat: [Unicode.Scalar?] = pattern.elements.map {
            if case .literal(let s) = $0 { return s }
            return nil
        }
        let matcher = LikeMatcher(pat)
        return Self.foldBool(pure: c.constant != nil) { env throws(CedarError) in matcher.matches(try Operators.string(c.run(env))) }
    }

    @inline(never) private func compileIsType(_ kind: Expr.Kind) -> CompiledBool {
        guard case .isType(let e, let type, let inExpr) = kind else { Self.mismatch() }
        let c = self.compile(e)
        guard let inExpr else { return Self.isType(c, type) }
        return Self.isTypeIn(c, type, self.compile(inExpr))
    }

    @inline(never) private static func isType(_ c: Compiled, _ type: EntityType) -> CompiledBool {
        Self.foldBool(pure: c.constant != nil) { env throws(CedarError) in try Operators.entity(c.run(env)).type == type }
    }

    @inline(never) private static func isTypeIn(_ c: Compiled, _ type: EntityType, _ target: Compiled) -> CompiledBool {
        .code { env throws(CedarError) in
            let uid = try Operators.entity(c.run(env))
            guard uid.type == type else { return false }
            return try Operators.isIn(uid, target.run(env), in: env.entities)
        }
    }

    @inline(never) private func compileIsEmpty(_ kind: Expr.Kind) -> CompiledBool {
        guard case .isEmpty(let e) = kind else { Self.mismatch() }
        return Self.isEmpty(self.compile(e))
    }

    @inline(never) private static func isEmpty(_ c: Compiled) -> CompiledBool {
        Self.foldBool(pure: c.constant != nil) { env throws(CedarError) in try Operators.set(c.run(env)).isEmpty }
    }

    @inline(never) private func compileBoolBinary(_ kind: Expr.Kind) -> CompiledBool {
        if Self.isValued(kind) { return Self.unboxedAlways(self.compileBinary(kind)) }
        guard case .binary(let op, let l, let r) = kind else { Self.mismatch() }
        let a = self.compile(l)
        return Self.comparison(op, a, self.compile(r), left: l)
    }

    @inline(never) private static func unboxedAlways(_ c: Compiled) -> CompiledBool {
        .code { env throws(CedarError) in try Operators.bool(c.run(env)) }
    }

    /// The boolean binary operators, from compiled operands (`left` is the left operand's AST, for fast paths).
    @inline(never) private static func comparison(_ op: BinaryOp, _ a: Compiled, _ b: Compiled, left l: Expr) -> CompiledBool {
        let pure = a.constant != nil && b.constant != nil
        switch op {
        case .eq, .neq:
            return Self.equality(a, b, negate: op == .neq)
        case .lt:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.lessThan(x, b.run(env), orEqual: false)
            }
        case .le:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.lessThan(x, b.run(env), orEqual: true)
            }
        case .gt:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                let y = try b.run(env)
                return try Self.greater(x, y, orEqual: false)
            }
        case .ge:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                let y = try b.run(env)
                return try Self.greater(x, y, orEqual: true)
            }
        case .in:
            return Self.isIn(a, b, left: l)
        case .contains:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.contains(x, b.run(env))
            }
        case .containsAll:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
                let x = try a.run(env)
                return try Operators.containsAll(x, b.run(env))
            }
        case .containsAny:
            return Self.foldBool(pure: pure) { env throws(CedarError) in
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
            let c = Self.arithmeticOrTag(op, a, b)
            return .code { env throws(CedarError) in try Operators.bool(c.run(env)) }
        }
    }

    @inline(never) private static func arithmeticOrTag(_ op: BinaryOp, _ a: Compiled, _ b: Compiled) -> Compiled {
        op == .getTag ? Self.getTag(a, b) : Self.arithmetic(op, a, b)
    }

    @inline(never) private static func equality(_ a: Compiled, _ b: Compiled, negate: Bool) -> CompiledBool {
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
    }

    /// `in`, with fast paths for a literal entity or literal set of entities on the right.
    @inline(never) private static func isIn(_ a: Compiled, _ b: Compiled, left l: Expr) -> CompiledBool {
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
    }

    /// `x > y` is `y < x` with the operand type errors reported as for `x`.
    private static func greater(_ x: Value, _ y: Value, orEqual: Bool) throws(CedarError) -> Bool {
        switch (x, y) {
        case (.long(let a), .long(let b)): return orEqual ? a >= b : a > b
        default: return !(try Operators.lessThan(x, y, orEqual: !orEqual))
        }
    }
}
