/// A policy prepared for repeated evaluation: resolved scope checks and compiled conditions.
struct CompiledPolicy: Sendable {
    /// A principal or resource scope check with slots already filled.
    enum Scope: Sendable {
        case any
        case eq(EntityUID)
        case `in`(EntityUID)
        case `is`(EntityType)
        case isIn(EntityType, EntityUID)
        /// An unfilled slot: never matches (only templates have slots, and they are not evaluated).
        case never

        init(_ c: ScopeConstraint) {
            switch c {
            case .any: self = .any
            case .eq(.uid(let u)): self = .eq(u)
            case .in(.uid(let u)): self = .in(u)
            case .is(let t): self = .is(t)
            case .isIn(let t, .uid(let u)): self = .isIn(t, u)
            case .eq(.slot), .in(.slot), .isIn(_, .slot): self = .never
            }
        }

        @inline(__always) func matches(_ uid: EntityUID, _ entities: Entities) -> Bool {
            switch self {
            case .any: true
            case .eq(let e): uid == e
            case .in(let e): entities.isDescendant(uid, of: e)
            case .is(let t): uid.type == t
            case .isIn(let t, let e): uid.type == t && entities.isDescendant(uid, of: e)
            case .never: false
            }
        }
    }

    let id: String
    let effect: Effect
    /// Position of `id` in the sorted order of all policy IDs.
    let rank: Int
    let principal: Scope
    let action: ActionConstraint
    let resource: Scope
    /// `when` bodies and negated `unless` bodies, in order, joined with `&&`.
    let condition: CompiledBool

    init(_ policy: Policy, rank: Int) {
        self.id = policy.id
        self.effect = policy.effect
        self.rank = rank
        self.principal = Scope(policy.principal)
        self.action = policy.action
        self.resource = Scope(policy.resource)
        let compiler = ExprCompiler()
        var condition = CompiledBool.constant(true)
        // Build right to left so that evaluation runs the clauses in source order.
        for clause in policy.conditions.reversed() {
            var c = compiler.compileBool(clause.body)
            if clause.kind == .unless {
                switch c {
                case .constant(let b): c = .constant(!b)
                case .code(let code): c = .code { env throws(CedarError) in !(try code(env)) }
                }
            }
            switch (c, condition) {
            case (.constant(false), _): condition = .constant(false)
            case (.constant(true), _): break
            case (.code, .constant(true)): condition = c
            case (.code(let x), .constant(false)): condition = .code { env throws(CedarError) in try x(env) && false }
            case (.code(let x), .code(let y)): condition = .code { env throws(CedarError) in try x(env) ? try y(env) : false }
            }
        }
        self.condition = condition
    }

    @inline(__always) func actionMatches(_ uid: EntityUID, _ entities: Entities) -> Bool {
        switch self.action {
        case .any: true
        case .eq(let a): uid == a
        case .in(let a): entities.isDescendant(uid, of: a)
        case .inSet(let list): list.contains { entities.isDescendant(uid, of: $0) }
        }
    }

    @inline(__always) func scopeMatches(_ request: Request, _ entities: Entities) -> Bool {
        self.principal.matches(request.principal, entities) && self.actionMatches(request.action, entities)
            && self.resource.matches(request.resource, entities)
    }

    func isSatisfied(_ env: borrowing EvalEnv) throws(CedarError) -> Bool {
        guard self.scopeMatches(env.request, env.entities) else { return false }
        return try self.condition.run(env)
    }
}
