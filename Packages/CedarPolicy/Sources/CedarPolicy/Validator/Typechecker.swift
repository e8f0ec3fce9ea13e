/// A validation error found while typechecking; the typechecker stops at the first one.
struct TypeCheckError: Error {
    var message: String
    var location: SourceLocation?
}

/// What `has` and `hasTag` tests have established on a path through an expression.
struct Capability: Hashable {
    enum Key: Hashable {
        case attribute(String)
        case tag(Expr)
    }
    var on: Expr
    var key: Key
}

/// Typechecks one policy condition in one request environment, as Cedar's strict validator does.
struct Typechecker {
    let schema: ValidatorSchema
    let env: RequestEnvironment
    /// Nesting bound; deeper expressions are reported instead of overflowing the stack.
    static let maxDepth = 300

    typealias Answer = (type: ValidatorType, capabilities: Set<Capability>)

    func fail(_ message: String, _ e: Expr) -> TypeCheckError {
        TypeCheckError(message: message, location: e.location == .unknown ? nil : e.location)
    }

    func typecheck(_ e: Expr, _ prior: Set<Capability>, depth: Int = 0) throws(TypeCheckError) -> Answer {
        if depth > Self.maxDepth { throw self.fail("expression is nested too deeply to validate", e) }
        let d = depth + 1
        switch e.kind {
        case .variable(let v):
            switch v {
            case .principal: return (.entity(self.env.principal), [])
            case .resource: return (.entity(self.env.resource), [])
            case .action: return (.entity(self.env.action.type), [])
            case .context: return (self.env.context, [])
            }
        case .slot(let s):
            let t = s == .principal ? self.env.principalSlot : self.env.resourceSlot
            return (t.map { ValidatorType.entity($0) } ?? .anyEntity, [])
        case .literal(let v):
            return (try self.literalType(v, e), [])
        case .ifThenElse(let c, let a, let b):
            let (tc, capC) = try self.expect(c, .anyBool, prior, depth: d)
            if tc == .singleton(true) {
                let (ta, capA) = try self.typecheck(a, prior.union(capC), depth: d)
                return (ta, capA.union(capC))
            }
            if tc == .singleton(false) {
                return try self.typecheck(b, prior, depth: d)
            }
            let (ta, capA) = try self.typecheck(a, prior.union(capC), depth: d)
            let (tb, capB) = try self.typecheck(b, prior, depth: d)
            guard let lub = ValidatorType.leastUpperBound(ta, tb, strict: true) else {
                throw self.fail("the branches of `if` have incompatible types \(ta) and \(tb)", e)
            }
            return (lub, capA.union(capC).intersection(capB))
        case .and:
            // Right-nested chains (a policy's conditions) are walked iteratively, so their length
            // does not count against the depth limit.
            var levels: [Answer] = []
            var current = e
            var p = prior
            var result: Answer?
            while case .and(let l, let r) = current.kind {
                let (tl, capL) = try self.expect(l, .anyBool, p, depth: d)
                if tl == .singleton(false) {
                    result = (tl, [])
                    break
                }
                levels.append((tl, capL))
                p = p.union(capL)
                current = r
            }
            if result == nil { result = try self.expect(current, .anyBool, p, depth: d) }
            guard var (tr, capR) = result else { return (.anyBool, []) }
            for (tl, capL) in levels.reversed() {
                if tr == .singleton(false) {
                    (tr, capR) = (.singleton(false), [])
                } else if tr == .singleton(true) {
                    (tr, capR) = (tl, capL.union(capR))
                } else if tl == .singleton(true) {
                    (tr, capR) = (tr, capR)
                } else {
                    (tr, capR) = (.anyBool, capL.union(capR))
                }
            }
            return (tr, capR)
        case .or(let l, let r):
            let (tl, capL) = try self.expect(l, .anyBool, prior, depth: d)
            if tl == .singleton(true) { return (tl, capL) }
            let (tr, capR) = try self.expect(r, .anyBool, prior, depth: d)
            if tr == .singleton(true) { return (.singleton(true), capR) }
            if tr == .singleton(false) { return (tl, capL) }
            if tl == .singleton(false) { return (tr, capR) }
            return (.anyBool, capL.intersection(capR))
        case .not(let a):
            let (t, _) = try self.expect(a, .anyBool, prior, depth: d)
            switch t {
            case .bool(.true): return (.singleton(false), [])
            case .bool(.false): return (.singleton(true), [])
            default: return (.anyBool, [])
            }
        case .negate(let a):
            _ = try self.expect(a, .long, prior, depth: d)
            return (.long, [])
        case .isEmpty(let a):
            _ = try self.expect(a, .set(nil), prior, depth: d)
            return (.anyBool, [])
        case .like(let a, _):
            _ = try self.expect(a, .string, prior, depth: d)
            return (.anyBool, [])
        case .isType(let a, let t, let inExpr):
            if let inExpr {
                let isExpr = Expr(.isType(a, t, in: nil), at: e.location)
                let inCheck = Expr(.binary(.in, a, inExpr), at: e.location)
                return try self.typecheck(Expr(.and(isExpr, inCheck), at: e.location), prior, depth: d)
            }
            let (ta, _) = try self.expect(a, .anyEntity, prior, depth: d)
            switch ta {
            case .entity(let lub):
                if !lub.contains(t) { return (.singleton(false), []) }
                if lub.count == 1 { return (.singleton(true), []) }
                return (.anyBool, [])
            default:
                return (.anyBool, [])
            }
        case .getAttr(let a, let attr):
            let (ta, _) = try self.expectOneOf(a, [.anyEntity, .anyRecord], prior, depth: d)
            guard let attrType = self.lookupAttribute(ta, attr) else {
                throw self.fail("attribute `\(attr)` not found on \(ta)", e)
            }
            if attrType.isRequired || prior.contains(Capability(on: a, key: .attribute(attr))) {
                return (attrType.type, [])
            }
            throw self.fail("attribute `\(attr)` of \(ta) is optional: guard the access with a `has` check", e)
        case .hasAttr(let a, let attr):
            let (ta, _) = try self.expectOneOf(a, [.anyEntity, .anyRecord], prior, depth: d)
            let cap = Capability(on: a, key: .attribute(attr))
            if let attrType = self.lookupAttribute(ta, attr) {
                let isRecord: Bool
                if case .record = ta { isRecord = true } else { isRecord = false }
                if attrType.isRequired && isRecord || prior.contains(cap) {
                    return (.singleton(true), [cap])
                }
                return (.anyBool, [cap])
            }
            return (self.mayHaveAttribute(ta, attr) ? .anyBool : .singleton(false), [])
        case .set(let elements):
            var types: [ValidatorType] = []
            for el in elements { types.append(try self.typecheck(el, prior, depth: d).type) }
            var lub = ValidatorType.never
            for t in types {
                guard let next = ValidatorType.leastUpperBound(lub, t, strict: true) else {
                    throw self.fail("set elements have incompatible types", e)
                }
                lub = next
            }
            if elements.isEmpty { throw self.fail("empty set literals are forbidden in policies", e) }
            return (.set(lub), [])
        case .record(let entries):
            var attrs: [String: ValidatorAttribute] = [:]
            for entry in entries {
                let t = try self.typecheck(entry.value, prior, depth: d).type
                attrs[entry.key] = ValidatorAttribute(type: t, isRequired: true)
            }
            return (.record(attrs, open: false), [])
        case .call(let f, let args):
            return (try self.typecheckCall(e, f, args, prior, depth: d), [])
        case .binary(let op, let l, let r):
            return try self.typecheckBinary(e, op, l, r, prior, depth: d)
        }
    }

    private func literalType(_ v: Value, _ e: Expr) throws(TypeCheckError) -> ValidatorType {
        switch v {
        case .bool(let b): return .singleton(b)
        case .long: return .long
        case .string: return .string
        case .entity(let uid):
            if uid.type.isAction {
                guard self.schema.schema.actions[uid] != nil else { throw self.fail("unrecognized action `\(uid)`", e) }
                return .entity(uid.type)
            }
            guard self.schema.schema.entityTypes[uid.type] != nil else {
                throw self.fail("unrecognized entity type `\(uid.type)`", e)
            }
            return .entity(uid.type)
        case .set(let values):
            var lub = ValidatorType.never
            for value in values.sorted(by: { "\($0)" < "\($1)" }) {
                guard let next = ValidatorType.leastUpperBound(lub, try self.literalType(value, e), strict: true) else {
                    throw self.fail("set elements have incompatible types", e)
                }
                lub = next
            }
            if values.isEmpty { throw self.fail("empty set literals are forbidden in policies", e) }
            return .set(lub)
        case .record(let fields):
            var attrs: [String: ValidatorAttribute] = [:]
            for (k, value) in fields { attrs[k] = ValidatorAttribute(type: try self.literalType(value, e), isRequired: true) }
            return .record(attrs, open: false)
        case .ext(let x):
            return .extension(x.typeName)
        }
    }

    /// Typechecks `e` and requires its type to be a (permissive) subtype of one of `expected`.
    func expectOneOf(_ e: Expr, _ expected: [ValidatorType], _ prior: Set<Capability>, depth: Int) throws(TypeCheckError) -> Answer {
        let answer = try self.typecheck(e, prior, depth: depth)
        guard expected.contains(where: { ValidatorType.isSubtype(answer.type, $0, strict: false) }) else {
            let want = expected.map(\.description).joined(separator: " or ")
            throw self.fail("expected an expression of type \(want), but it has type \(answer.type)", e)
        }
        return answer
    }

    func expect(_ e: Expr, _ expected: ValidatorType, _ prior: Set<Capability>, depth: Int) throws(TypeCheckError) -> Answer {
        try self.expectOneOf(e, [expected], prior, depth: depth)
    }

    func lookupAttribute(_ t: ValidatorType, _ attr: String) -> ValidatorAttribute? {
        switch t {
        case .record(let attrs, _): return attrs[attr]
        case .entity(let lub):
            // Attributes common to every type in the union (permissive LUB).
            var result: ValidatorAttribute?
            for (i, ety) in lub.sorted().enumerated() {
                guard let a = self.schema.attributes[ety]?[attr] else { return nil }
                if i == 0 {
                    result = a
                } else if let r = result {
                    guard let lubType = ValidatorType.leastUpperBound(r.type, a.type, strict: false) else { return nil }
                    result = ValidatorAttribute(type: lubType, isRequired: r.isRequired && a.isRequired)
                }
            }
            return result
        default: return nil
        }
    }

    func mayHaveAttribute(_ t: ValidatorType, _ attr: String) -> Bool {
        switch t {
        case .never, .anyEntity: return true
        case .entity(let lub):
            for ety in lub where !ety.isAction && self.schema.schema.entityTypes[ety] == nil { return true }
            return lub.contains { self.schema.attributes[$0]?[attr] != nil }
        case .record(let attrs, let open): return open || attrs[attr] != nil
        default: return false
        }
    }

    /// The action a literal or the `action` variable denotes.
    private func actionUID(_ e: Expr) -> EntityUID? {
        switch e.kind {
        case .variable(.action): return self.env.action
        case .literal(.entity(let uid)): return uid
        default: return nil
        }
    }

    private func literalUIDs(_ e: Expr) -> [EntityUID]? {
        if let uid = self.actionUID(e) { return [uid] }
        if case .set(let elements) = e.kind {
            var out: [EntityUID] = []
            for el in elements {
                guard let uid = self.actionUID(el) else { return nil }
                out.append(uid)
            }
            return out
        }
        return nil
    }

    private func isLiteral(_ e: Expr) -> Bool {
        if case .literal = e.kind { return true }
        return false
    }

    private func typecheckBinary(_ e: Expr, _ op: BinaryOp, _ l: Expr, _ r: Expr, _ prior: Set<Capability>,
                                 depth d: Int) throws(TypeCheckError) -> Answer {
        switch op {
        case .eq, .neq:
            let tl = try self.typecheck(l, prior, depth: d).type
            let tr = try self.typecheck(r, prior, depth: d).type
            var result = ValidatorType.anyBool
            if case .entity(let a) = tl, case .entity(let b) = tr, a.isDisjoint(with: b) {
                result = .singleton(false)
            } else if let lv = self.literalValue(l), let rv = self.literalValue(r) {
                result = .singleton(lv == rv)
            }
            if result == .anyBool, ValidatorType.leastUpperBound(tl, tr, strict: true) == nil {
                throw self.fail("`==` compares incompatible types \(tl) and \(tr)", e)
            }
            if op == .neq {
                switch result {
                case .bool(.true): return (.singleton(false), [])
                case .bool(.false): return (.singleton(true), [])
                default: return (.anyBool, [])
                }
            }
            return (result, [])
        case .lt, .le, .gt, .ge:
            let tl = try self.typecheck(l, prior, depth: d).type
            let tr = try self.typecheck(r, prior, depth: d).type
            func comparable(_ t: ValidatorType) -> Bool {
                switch t {
                case .long, .extension("datetime"), .extension("duration"): true
                default: false
                }
            }
            switch (tl, tr) {
            case (.never, .never): throw self.fail("invalid comparison", e)
            case (.never, let o), (let o, .never):
                guard comparable(o) else { throw self.fail("cannot compare values of type \(o)", e) }
            default:
                guard tl == tr, comparable(tl) else {
                    throw self.fail("cannot compare values of types \(tl) and \(tr) with `\(op.rawValue)`", e)
                }
            }
            return (.anyBool, [])
        case .add, .sub, .mul:
            _ = try self.expect(l, .long, prior, depth: d)
            _ = try self.expect(r, .long, prior, depth: d)
            return (.long, [])
        case .in:
            return (try self.typecheckIn(e, l, r, prior, depth: d), [])
        case .contains:
            let tl = try self.expect(l, .set(nil), prior, depth: d).type
            let tr = try self.typecheck(r, prior, depth: d).type
            if case .set(.some(let element)) = tl, ValidatorType.leastUpperBound(element, tr, strict: true) == nil {
                throw self.fail("`contains` argument of type \(tr) is incompatible with the set's element type \(element)", e)
            }
            return (.anyBool, [])
        case .containsAll, .containsAny:
            let tl = try self.expect(l, .set(nil), prior, depth: d).type
            let tr = try self.expect(r, .set(nil), prior, depth: d).type
            if ValidatorType.leastUpperBound(tl, tr, strict: true) == nil {
                throw self.fail("`\(op.rawValue)` compares sets of incompatible types \(tl) and \(tr)", e)
            }
            return (.anyBool, [])
        case .hasTag:
            let tl = try self.expect(l, .anyEntity, prior, depth: d).type
            _ = try self.expect(r, .string, prior, depth: d)
            let cap = Capability(on: l, key: .tag(r))
            let result: ValidatorType
            if self.tagTypes(tl).isEmpty {
                result = .singleton(false)
            } else if prior.contains(cap) {
                result = .singleton(true)
            } else {
                result = .anyBool
            }
            return (result, [cap])
        case .getTag:
            let tl = try self.expect(l, .anyEntity, prior, depth: d).type
            _ = try self.expect(r, .string, prior, depth: d)
            guard prior.contains(Capability(on: l, key: .tag(r))) else {
                throw self.fail("tag access on \(tl) must be guarded by a `hasTag` check", e)
            }
            let tags = self.tagTypes(tl)
            if tags.isEmpty { throw self.fail("entities of type \(tl) have no tags", e) }
            var lub = ValidatorType.never
            for t in tags {
                guard let next = ValidatorType.leastUpperBound(lub, t, strict: true) else {
                    throw self.fail("tags have incompatible types", e)
                }
                lub = next
            }
            return (lub, [])
        }
    }

    private func literalValue(_ e: Expr) -> Value? {
        if case .variable(.action) = e.kind { return .entity(self.env.action) }
        if case .literal(let v) = e.kind { return v }
        return nil
    }

    private func tagTypes(_ t: ValidatorType) -> [ValidatorType] {
        var out: [ValidatorType] = []
        switch t {
        case .entity(let lub):
            for ety in lub.sorted() {
                if let tag = self.schema.tagType(ety), !out.contains(tag) { out.append(tag) }
            }
        case .anyEntity:
            for ety in self.schema.sortedEntityTypes {
                if let tag = self.schema.tagType(ety), !out.contains(tag) { out.append(tag) }
            }
        default: break
        }
        return out
    }

    private func typecheckIn(_ e: Expr, _ l: Expr, _ r: Expr, _ prior: Set<Capability>, depth d: Int) throws(TypeCheckError) -> ValidatorType {
        let tl = try self.expect(l, .anyEntity, prior, depth: d).type
        let tr = try self.expectOneOf(r, [.set(.anyEntity), .anyEntity], prior, depth: d).type
        if let lhs = self.actionUID(l), lhs.type.isAction, let rhs = self.literalUIDs(r) {
            let rhsActions = rhs.filter { $0.type.isAction }
            if rhsActions.isEmpty { return .singleton(false) }
            guard let descendants = self.schema.actionsIn(rhsActions) else {
                throw self.fail("unrecognized action in `in` expression", e)
            }
            return .singleton(descendants.contains(lhs))
        }
        var lhsTypes: Set<EntityType>?
        if case .entity(let lub) = tl { lhsTypes = lub }
        var rhsTypes: Set<EntityType>?
        if case .entity(let lub) = tr { rhsTypes = lub }
        if case .set(.some(.entity(let lub))) = tr { rhsTypes = lub }
        if let lhsTypes, let rhsTypes, !self.anyDescendant(lhsTypes, rhsTypes) {
            return .singleton(false)
        }
        return .anyBool
    }

    private func anyDescendant(_ lhs: Set<EntityType>, _ rhs: Set<EntityType>) -> Bool {
        for a in lhs {
            for b in rhs {
                if self.schema.entityTypesIn(b).contains(a) { return true }
                if a == b { return true }
                for (uid, _) in self.schema.schema.actions where uid.type == b {
                    if self.schema.actionDescendants[uid]?.contains(where: { $0.type == a }) == true { return true }
                }
            }
        }
        return false
    }

    private func typecheckCall(_ e: Expr, _ f: ExtensionFunction, _ args: [Expr], _ prior: Set<Capability>,
                               depth d: Int) throws(TypeCheckError) -> ValidatorType {
        let (argTypes, ret) = Self.signature(f)
        guard args.count == argTypes.count else {
            throw self.fail("`\(f.rawValue)` takes \(argTypes.count) argument(s) but was given \(args.count)", e)
        }
        let isConstructor = !f.isMethod
        if isConstructor {
            if args.count == 1, case .literal(.string(let s)) = args[0].kind, !ExtensionLiteralCheck.isValid(f, s) {
                throw self.fail("invalid argument to `\(f.rawValue)`: \(CedarText.quoted(s))", e)
            }
            guard args.allSatisfy(self.isLiteral) else {
                throw self.fail("extension constructor `\(f.rawValue)` must be applied to a literal", e)
            }
        }
        for (arg, t) in zip(args, argTypes) { _ = try self.expect(arg, t, prior, depth: d) }
        return ret
    }

    static func signature(_ f: ExtensionFunction) -> ([ValidatorType], ValidatorType) {
        let decimal = ValidatorType.extension("decimal")
        let ip = ValidatorType.extension("ipaddr")
        let datetime = ValidatorType.extension("datetime")
        let duration = ValidatorType.extension("duration")
        switch f {
        case .decimal: return ([.string], decimal)
        case .lessThan, .lessThanOrEqual, .greaterThan, .greaterThanOrEqual: return ([decimal, decimal], .anyBool)
        case .ip: return ([.string], ip)
        case .isIpv4, .isIpv6, .isLoopback, .isMulticast: return ([ip], .anyBool)
        case .isInRange: return ([ip, ip], .anyBool)
        case .datetime: return ([.string], datetime)
        case .duration: return ([.string], duration)
        case .offset: return ([datetime, duration], datetime)
        case .durationSince: return ([datetime, datetime], duration)
        case .toDate: return ([datetime], datetime)
        case .toTime: return ([datetime], duration)
        case .toMilliseconds, .toSeconds, .toMinutes, .toHours, .toDays: return ([duration], .long)
        }
    }
}
