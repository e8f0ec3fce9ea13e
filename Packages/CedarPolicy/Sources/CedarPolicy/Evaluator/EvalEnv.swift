/// What compiled code reads at run time: the request, the entity store, and the request entities'
/// store records and ancestors, looked up once per request.
struct EvalEnv: Sendable {
    let request: Request
    let entities: Entities
    let principalEntity: Entity?
    let resourceEntity: Entity?
    let principalAncestors: Set<EntityUID>
    let actionAncestors: Set<EntityUID>
    let resourceAncestors: Set<EntityUID>

    init(request: Request, entities: Entities) {
        self.init(
            request: request, entities: entities, principalAncestors: entities.ancestors(of: request.principal),
            actionAncestors: entities.ancestors(of: request.action), resourceAncestors: entities.ancestors(of: request.resource))
    }

    init(
        request: Request, entities: Entities, principalAncestors: Set<EntityUID>, actionAncestors: Set<EntityUID>,
        resourceAncestors: Set<EntityUID>
    ) {
        self.request = request
        self.entities = entities
        self.principalEntity = entities[request.principal]
        self.resourceEntity = entities[request.resource]
        self.principalAncestors = principalAncestors
        self.actionAncestors = actionAncestors
        self.resourceAncestors = resourceAncestors
    }

    /// An environment for constant folding; compiled code that is folded never reads it.
    static let folding: EvalEnv = {
        let none = EntityUID(type: EntityType(unchecked: "__cedar::Folding"), id: "")
        return EvalEnv(request: Request(principal: none, action: none, resource: none), entities: Entities())
    }()

    @inline(__always) func uid(_ v: Variable) -> EntityUID {
        switch v {
        case .principal: self.request.principal
        case .action: self.request.action
        case .resource: self.request.resource
        case .context: self.request.principal  // not reached: callers handle context
        }
    }

    /// `v in target` for a request entity, using the ancestors looked up once per request.
    @inline(__always) func isDescendant(_ v: Variable, of target: EntityUID) -> Bool {
        switch v {
        case .principal: self.request.principal == target || self.principalAncestors.contains(target)
        case .action: self.request.action == target || self.actionAncestors.contains(target)
        case .resource: self.request.resource == target || self.resourceAncestors.contains(target)
        case .context: false  // not reached: callers handle context
        }
    }

    /// The store record of a request entity (nil when absent; the action's is looked up each time).
    @inline(__always) func entity(_ v: Variable) -> Entity? {
        switch v {
        case .principal: self.principalEntity
        case .resource: self.resourceEntity
        case .action: self.entities[self.request.action]
        case .context: nil
        }
    }
}

/// Compiled code producing any value.
typealias ValueCode = @Sendable (borrowing EvalEnv) throws(CedarError) -> Value
/// Compiled code producing a boolean (non-booleans were already rejected with a type error).
typealias BoolCode = @Sendable (borrowing EvalEnv) throws(CedarError) -> Bool

/// A compiled expression: a folded constant or code to run.
enum Compiled: Sendable {
    case constant(Value)
    case code(ValueCode)

    @inline(__always) func run(_ env: borrowing EvalEnv) throws(CedarError) -> Value {
        switch self {
        case .constant(let v): v
        case .code(let c): try c(env)
        }
    }

    var constant: Value? {
        if case .constant(let v) = self { return v }
        return nil
    }

    /// As a closure, whatever the case.
    var code: ValueCode {
        switch self {
        case .constant(let v): { _ in v }
        case .code(let c): c
        }
    }
}

/// A compiled boolean expression.
enum CompiledBool: Sendable {
    case constant(Bool)
    case code(BoolCode)

    @inline(__always) func run(_ env: borrowing EvalEnv) throws(CedarError) -> Bool {
        switch self {
        case .constant(let v): v
        case .code(let c): try c(env)
        }
    }

    var code: BoolCode {
        switch self {
        case .constant(let v): { _ in v }
        case .code(let c): c
        }
    }
}
