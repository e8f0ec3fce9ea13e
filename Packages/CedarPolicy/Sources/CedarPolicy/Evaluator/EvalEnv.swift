/// What compiled code reads at run time: the request and the entity store.
struct EvalEnv: Sendable {
    let request: Request
    let entities: Entities

    init(request: Request, entities: Entities) {
        self.request = request
        self.entities = entities
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

    @inline(__always) func value(_ v: Variable) -> Value {
        switch v {
        case .principal: .entity(self.request.principal)
        case .action: .entity(self.request.action)
        case .resource: .entity(self.request.resource)
        case .context: .record(self.request.context)
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
