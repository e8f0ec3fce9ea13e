/// Evaluates Cedar expressions against one request and entity store (Cedar 4.x semantics).
///
/// Errors (type errors, overflow, missing attributes, tags or entities, extension errors) are thrown
/// as `CedarError`; `&&`, `||` and `if` short-circuit, so operands that are not evaluated cannot
/// fail. For many policies use ``Authorizer``, which compiles once and reuses the compiled code.
public struct Evaluator: Sendable {
    public let request: Request
    public let entities: Entities

    public init(request: Request, entities: Entities) {
        self.request = request
        self.entities = entities
    }

    /// The value of `expr`.
    public func evaluate(_ expr: Expr) throws(CedarError) -> Value {
        let env = EvalEnv(request: self.request, entities: self.entities)
        return try ExprCompiler().compile(expr).run(env)
    }

    /// Whether `policy` is satisfied: its scope matches and its conditions hold.
    public func isSatisfied(_ policy: Policy) throws(CedarError) -> Bool {
        guard policy.scopeMatches(self.request, entities: self.entities) else { return false }
        return try CompiledPolicy.compileConditions(policy.conditions).run(EvalEnv(request: self.request, entities: self.entities))
    }
}
