extension Validator {
    /// Unknown entity types, unknown actions and ids outside an enumerated type, anywhere in the policy.
    func scopeChecks(_ p: Policy) -> [ValidationDiagnostic] {
        var uids: [(EntityUID, SourceLocation?)] = []
        var types: [(EntityType, SourceLocation?)] = []
        let loc: SourceLocation? = p.location == .unknown ? nil : p.location
        for c in [p.principal, p.resource] {
            switch c {
            case .any: break
            case .eq(let r), .in(let r):
                if case .uid(let u) = r { uids.append((u, loc)); types.append((u.type, loc)) }
            case .is(let t): types.append((t, loc))
            case .isIn(let t, let r):
                types.append((t, loc))
                if case .uid(let u) = r { uids.append((u, loc)); types.append((u.type, loc)) }
            }
        }
        switch p.action {
        case .any: break
        case .eq(let u), .in(let u): uids.append((u, loc)); types.append((u.type, loc))
        case .inSet(let us): for u in us { uids.append((u, loc)); types.append((u.type, loc)) }
        }
        for c in p.conditions {
            Self.walk(c.body) { e in
                switch e.kind {
                case .literal(let v): Self.collect(v, e.location, &uids, &types)
                case .isType(_, let t, _): types.append((t, e.location))
                default: break
                }
            }
        }
        var out: [ValidationDiagnostic] = []
        for (t, l) in types where !self.index.isKnownEntityType(t) {
            out.append(ValidationDiagnostic(policyID: p.id, message: "unrecognized entity type `\(t)`", location: l))
        }
        for (u, l) in uids {
            if u.type.isAction {
                if self.index.schema.actions[u] == nil {
                    out.append(ValidationDiagnostic(policyID: p.id, message: "unrecognized action `\(u)`", location: l))
                }
            } else if let values = self.index.schema.entityTypes[u.type]?.enumValues, !values.contains(u.id) {
                out.append(ValidationDiagnostic(
                    policyID: p.id, message: "`\(u)` is not one of the values of enumerated entity type `\(u.type)`", location: l))
            }
        }
        return out
    }

    private static func collect(_ v: Value, _ l: SourceLocation, _ uids: inout [(EntityUID, SourceLocation?)],
                                _ types: inout [(EntityType, SourceLocation?)]) {
        switch v {
        case .entity(let u):
            uids.append((u, l))
            types.append((u.type, l))
        case .set(let s): for x in s { Self.collect(x, l, &uids, &types) }
        case .record(let r): for x in r.values { Self.collect(x, l, &uids, &types) }
        default: break
        }
    }

    /// Calls `visit` on every subexpression (iteratively, so deep trees cannot overflow the stack).
    static func walk(_ root: Expr, _ visit: (Expr) -> Void) {
        var stack = [root]
        while let e = stack.popLast() {
            visit(e)
            switch e.kind {
            case .literal, .variable, .slot: break
            case .not(let a), .negate(let a), .getAttr(let a, _), .hasAttr(let a, _), .like(let a, _), .isEmpty(let a):
                stack.append(a)
            case .isType(let a, _, let b):
                stack.append(a)
                if let b { stack.append(b) }
            case .and(let a, let b), .or(let a, let b), .binary(_, let a, let b):
                stack.append(a)
                stack.append(b)
            case .ifThenElse(let a, let b, let c):
                stack.append(a)
                stack.append(b)
                stack.append(c)
            case .set(let xs), .call(_, let xs): stack.append(contentsOf: xs)
            case .record(let entries): stack.append(contentsOf: entries.map(\.value))
            }
        }
    }

    /// The error for a policy whose scope matches no (principal, action, resource) the schema allows.
    func actionApplication(_ p: Policy) -> ValidationDiagnostic? {
        let principals = self.typesSatisfying(p.principal)
        let resources = self.typesSatisfying(p.resource)
        for uid in self.actionsSatisfying(p.action) {
            guard let applies = self.index.schema.actions[uid]?.appliesTo else { continue }
            if !principals.isDisjoint(with: applies.principalTypes) && !resources.isDisjoint(with: applies.resourceTypes) {
                return nil
            }
        }
        return ValidationDiagnostic(
            policyID: p.id,
            message: "unable to find an applicable action given the policy scope constraints",
            location: p.location == .unknown ? nil : p.location)
    }

    private func actionsSatisfying(_ c: ActionConstraint) -> [EntityUID] {
        switch c {
        case .any: return Array(self.index.schema.actions.keys)
        case .eq(let u): return [u]
        case .in(let u): return Array(self.index.actionsIn([u]) ?? [])
        case .inSet(let us): return Array(self.index.actionsIn(us) ?? [])
        }
    }

    private func typesSatisfying(_ c: ScopeConstraint) -> Set<EntityType> {
        let all = Set(self.index.schema.entityTypes.keys)
        switch c {
        case .any, .eq(.slot), .in(.slot): return all
        case .eq(.uid(let u)): return [u.type]
        case .in(.uid(let u)): return self.index.entityTypesIn(u.type)
        case .is(let t), .isIn(let t, .slot): return self.index.isKnownEntityType(t) ? [t] : []
        case .isIn(let t, .uid(let u)): return self.index.entityTypesIn(u.type).filter { $0 == t }
        }
    }
}
