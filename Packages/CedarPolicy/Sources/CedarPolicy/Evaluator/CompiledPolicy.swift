/// A policy prepared for repeated evaluation: scope entities replaced by dense integer IDs (see
/// ``ScopeSymbols``) and conditions compiled to closures.
final class CompiledPolicy: Sendable {
    /// A principal or resource constraint over symbol IDs.
    enum Scope: Sendable {
        case any
        case eq(Int32)
        case `in`(Int32)
        case `is`(Int32)
        case isIn(Int32, Int32)
        /// An unfilled slot: never matches (only templates have slots, and they are not evaluated).
        case never
    }

    /// An action constraint over symbol IDs.
    enum ActionScope: Sendable {
        case any
        case eq(Int32)
        case `in`(Int32)
        case inSet([Int32])
    }

    let id: String
    let effect: Effect
    /// Position of `id` in the sorted order of all policy IDs.
    let rank: Int
    let principal: Scope
    let action: ActionScope
    let resource: Scope
    /// `when` bodies and negated `unless` bodies, in order, joined with `&&`.
    let condition: CompiledBool

    init(_ policy: Policy, rank: Int, symbols: inout ScopeSymbols) {
        self.id = policy.id
        self.effect = policy.effect
        self.rank = rank
        self.principal = Self.scope(policy.principal, &symbols)
        self.resource = Self.scope(policy.resource, &symbols)
        switch policy.action {
        case .any: self.action = .any
        case .eq(let a): self.action = .eq(symbols.entity(a))
        case .in(let a): self.action = .in(symbols.entity(a))
        case .inSet(let list): self.action = .inSet(list.map { symbols.entity($0) })
        }
        self.condition = Self.compileConditions(policy.conditions)
    }

    private static func scope(_ c: ScopeConstraint, _ symbols: inout ScopeSymbols) -> Scope {
        switch c {
        case .any: .any
        case .eq(.uid(let u)): .eq(symbols.entity(u))
        case .in(.uid(let u)): .in(symbols.entity(u))
        case .is(let t): .is(symbols.type(t))
        case .isIn(let t, .uid(let u)): .isIn(symbols.type(t), symbols.entity(u))
        case .eq(.slot), .in(.slot), .isIn(_, .slot): .never
        }
    }

    /// The conjunction of the clauses, evaluated in source order with short-circuiting.
    static func compileConditions(_ conditions: [Condition]) -> CompiledBool {
        let compiler = ExprCompiler()
        var condition = CompiledBool.constant(true)
        // Built right to left so that evaluation runs the clauses in source order.
        for clause in conditions.reversed() {
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
        return condition
    }

    @inline(__always) func scopeMatches(_ keys: borrowing RequestKeys) -> Bool {
        Self.matches(self.principal, keys.principal, keys) && self.actionMatches(keys) && Self.matches(self.resource, keys.resource, keys)
    }

    @inline(__always) private static func matches(_ scope: Scope, _ e: RequestKeys.Resolved, _ keys: borrowing RequestKeys) -> Bool {
        switch scope {
        case .any: true
        case .eq(let id): e.id == id
        case .in(let id): keys.isIn(e, id)
        case .is(let t): e.type == t
        case .isIn(let t, let id): e.type == t && keys.isIn(e, id)
        case .never: false
        }
    }

    @inline(__always) private func actionMatches(_ keys: borrowing RequestKeys) -> Bool {
        switch self.action {
        case .any: true
        case .eq(let id): keys.action.id == id
        case .in(let id): keys.isIn(keys.action, id)
        case .inSet(let ids): ids.contains { keys.isIn(keys.action, $0) }
        }
    }
}

/// Dense integer IDs for the entities and entity types that policy scopes name.
struct ScopeSymbols: Sendable {
    private(set) var entities = SymbolTable<EntityUID>(hash: FNV.hash)
    private(set) var types = SymbolTable<EntityType>(hash: FNV.hash)

    mutating func entity(_ uid: EntityUID) -> Int32 { self.entities.intern(uid) }
    mutating func type(_ t: EntityType) -> Int32 { self.types.intern(t) }
}

/// A request's principal, action and resource resolved to symbol IDs (-1 when a scope never
/// names them), with the IDs of their named ancestors in one shared buffer.
struct RequestKeys: ~Copyable {
    struct Resolved {
        var id: Int32
        var type: Int32
        var ancestors: Range<Int>
    }

    var principal: Resolved
    var action: Resolved
    var resource: Resolved
    var buffer: [Int32]

    init(_ request: Request, ancestors: (Set<EntityUID>, Set<EntityUID>, Set<EntityUID>), _ symbols: ScopeSymbols) {
        var buffer: [Int32] = []
        let total = ancestors.0.count + ancestors.1.count + ancestors.2.count
        if total > 0 && symbols.entities.count > 0 { buffer.reserveCapacity(total) }
        func resolve(_ uid: EntityUID, _ ancestors: Set<EntityUID>, _ buffer: inout [Int32]) -> Resolved {
            let start = buffer.count
            if symbols.entities.count > 0 {
                for a in ancestors {
                    let id = symbols.entities.id(a)
                    if id >= 0 { buffer.append(id) }
                }
            }
            return Resolved(id: symbols.entities.id(uid), type: symbols.types.id(uid.type), ancestors: start..<buffer.count)
        }
        self.principal = resolve(request.principal, ancestors.0, &buffer)
        self.action = resolve(request.action, ancestors.1, &buffer)
        self.resource = resolve(request.resource, ancestors.2, &buffer)
        self.buffer = buffer
    }

    /// Whether `e` is the entity `id` or has it among its ancestors.
    @inline(__always) func isIn(_ e: Resolved, _ id: Int32) -> Bool {
        if e.id == id { return true }
        for i in e.ancestors where self.buffer[i] == id { return true }
        return false
    }
}
