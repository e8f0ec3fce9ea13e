/// Cedar's strict-mode policy validator: checks policies against a schema the way Cedar 4.x does
/// (unknown entity types and actions, enum ids, action applicability, and typechecking of every
/// policy condition in every request environment the schema allows).
public struct Validator: Sendable {
    let index: ValidatorSchema

    public init(schema: Schema) {
        self.index = ValidatorSchema(schema)
    }

    /// Validates static policies and templates, and the entity types of template-link values.
    public func validate(_ policies: PolicySet) -> ValidationResult {
        var result = ValidationResult()
        for policy in policies.staticPolicies + policies.templates {
            let (errors, warnings) = self.validate(policy: policy)
            result.errors += errors
            result.warnings += warnings
        }
        for link in policies.links {
            guard let template = policies.template(link.templateID) else { continue }
            let linked = template.linked(id: link.newID, values: link.values)
            for uid in link.values.values.sorted() where !self.index.isKnownEntityType(uid.type) {
                result.errors.append(ValidationDiagnostic(policyID: link.newID, message: "unrecognized entity type `\(uid.type)`"))
            }
            if let e = self.actionApplication(linked) { result.errors.append(e) }
        }
        return result
    }

    /// Errors and warnings for one static policy or template.
    func validate(policy: Policy) -> (errors: [ValidationDiagnostic], warnings: [ValidationDiagnostic]) {
        var errors = self.scopeChecks(policy)
        if let e = self.actionApplication(policy) { errors.append(e) }
        let conjuncts = Self.conjuncts(policy)
        var allFalse = true
        var typeError: ValidationDiagnostic?
        for unlinked in self.index.environments {
            for env in self.linkedEnvironments(unlinked, policy) {
                let checker = Typechecker(schema: self.index, env: env)
                do {
                    let (t, _) = try checker.typecheckConjunction(conjuncts, [], depth: 0)
                    if t != .singleton(false) { allFalse = false }
                } catch {
                    allFalse = false
                    if typeError == nil {
                        typeError = ValidationDiagnostic(policyID: policy.id, message: error.message, location: error.location)
                    }
                }
            }
        }
        if let typeError { errors.append(typeError) }
        var warnings: [ValidationDiagnostic] = []
        if allFalse {
            warnings.append(ValidationDiagnostic(
                policyID: policy.id, message: "policy is impossible: the condition is always false for every request the schema allows",
                location: policy.location == .unknown ? nil : policy.location))
        }
        return (errors, warnings)
    }

    /// The policy's scope constraints and conditions in evaluation order, as the operands of the
    /// `&&` chain Cedar builds (`principal && action && resource && when₁ && !unless₂ …`).
    ///
    /// Kept as a list rather than one right-nested `Expr`: a policy may have as many clauses as
    /// ``CedarParser/maxConditionsPerPolicy``, and a chain that long would be built, typechecked
    /// and freed recursively.
    static func conjuncts(_ p: Policy) -> [Expr] {
        let loc = p.location
        func scope(_ c: ScopeConstraint, _ v: Variable) -> Expr {
            let variable = Expr(.variable(v), at: loc)
            func ref(_ r: EntityReference) -> Expr {
                switch r {
                case .uid(let uid): Expr(.literal(.entity(uid)), at: loc)
                case .slot(let s): Expr(.slot(s), at: loc)
                }
            }
            switch c {
            case .any: return Expr(.literal(.bool(true)), at: loc)
            case .eq(let r): return Expr(.binary(.eq, variable, ref(r)), at: loc)
            case .in(let r): return Expr(.binary(.in, variable, ref(r)), at: loc)
            case .is(let t): return Expr(.isType(variable, t, in: nil), at: loc)
            case .isIn(let t, let r):
                return Expr(.and(Expr(.isType(variable, t, in: nil), at: loc), Expr(.binary(.in, variable, ref(r)), at: loc)), at: loc)
            }
        }
        let actionVar = Expr(.variable(.action), at: loc)
        let action: Expr
        switch p.action {
        case .any: action = Expr(.literal(.bool(true)), at: loc)
        case .eq(let uid): action = Expr(.binary(.eq, actionVar, Expr(.literal(.entity(uid)), at: loc)), at: loc)
        case .in(let uid):
            action = Expr(.binary(.in, actionVar, Expr(.set([Expr(.literal(.entity(uid)), at: loc)]), at: loc)), at: loc)
        case .inSet(let uids):
            action = Expr(.binary(.in, actionVar, Expr(.set(uids.map { Expr(.literal(.entity($0)), at: loc) }), at: loc)), at: loc)
        }
        var out = [scope(p.principal, .principal), action, scope(p.resource, .resource)]
        out.reserveCapacity(3 + p.conditions.count)
        for c in p.conditions {
            out.append(c.kind == .when ? c.body : Expr(.not(c.body), at: c.body.location))
        }
        return out
    }

    /// The request environment with the template's slots typed, once per possible slot type.
    private func linkedEnvironments(_ env: RequestEnvironment, _ p: Policy) -> [RequestEnvironment] {
        let slots = Set(p.slots)
        func options(_ slot: SlotID, _ variable: EntityType, _ c: ScopeConstraint) -> [EntityType?] {
            guard slots.contains(slot) else { return [nil] }
            switch c {
            case .eq: return [variable]
            case .in, .isIn:
                var out: [EntityType?] = self.index.sortedEntityTypes
                    .filter { self.index.entityDescendants[$0]?.contains(variable) == true }
                    .map { $0 }
                out.append(variable)
                return out
            case .is, .any:
                return self.index.sortedEntityTypes.map { $0 }
            }
        }
        var out: [RequestEnvironment] = []
        for ps in options(.principal, env.principal, p.principal) {
            for rs in options(.resource, env.resource, p.resource) {
                var e = env
                e.principalSlot = ps
                e.resourceSlot = rs
                out.append(e)
            }
        }
        return out
    }
}
