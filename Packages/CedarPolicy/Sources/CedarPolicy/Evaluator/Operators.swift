/// The semantics of Cedar's operators on values, shared by the compiler's closures.
enum Operators {
    @inline(__always) static func bool(_ v: Value) throws(CedarError) -> Bool {
        guard case .bool(let b) = v else { throw TypeCheck.mismatch("bool", v) }
        return b
    }

    @inline(__always) static func long(_ v: Value) throws(CedarError) -> Int64 {
        guard case .long(let n) = v else { throw TypeCheck.mismatch("long", v) }
        return n
    }

    @inline(__always) static func entity(_ v: Value) throws(CedarError) -> EntityUID {
        guard case .entity(let u) = v else { throw TypeCheck.mismatch(TypeCheck.anyEntity, v) }
        return u
    }

    @inline(__always) static func set(_ v: Value) throws(CedarError) -> Set<Value> {
        guard case .set(let s) = v else { throw TypeCheck.mismatch("set", v) }
        return s
    }

    @inline(__always) static func string(_ v: Value) throws(CedarError) -> String {
        guard case .string(let s) = v else { throw TypeCheck.mismatch("string", v) }
        return s
    }

    // MARK: attributes and tags

    /// `uid.attr`: the entity must exist and have the attribute.
    @inline(__always) static func attribute(of uid: EntityUID, _ name: String, in entities: Entities) throws(CedarError) -> Value {
        guard let entity = entities.entities[uid] else { throw TypeCheck.entityNotFound(uid) }
        guard let v = entity.attributes[name] else { throw TypeCheck.attributeNotFound(uid, name) }
        return v
    }

    /// `v.attr` on a record or an entity.
    static func attribute(of v: Value, _ name: String, in entities: Entities) throws(CedarError) -> Value {
        switch v {
        case .record(let r):
            guard let x = r[name] else { throw TypeCheck.recordAttributeNotFound(name) }
            return x
        case .entity(let uid):
            return try self.attribute(of: uid, name, in: entities)
        default:
            throw TypeCheck.mismatch(oneOf: ["record", TypeCheck.anyEntity], v)
        }
    }

    /// `uid has attr`: false for entities missing from the store.
    @inline(__always) static func has(_ uid: EntityUID, _ name: String, in entities: Entities) -> Bool {
        entities.entities[uid]?.attributes[name] != nil
    }

    /// `v has attr` on a record or an entity.
    static func has(_ v: Value, _ name: String, in entities: Entities) throws(CedarError) -> Bool {
        switch v {
        case .record(let r): return r[name] != nil
        case .entity(let uid): return self.has(uid, name, in: entities)
        default: throw TypeCheck.mismatch(oneOf: ["record", TypeCheck.anyEntity], v)
        }
    }

    static func hasTag(_ v: Value, _ key: Value, in entities: Entities) throws(CedarError) -> Bool {
        let uid = try self.entity(v)
        let k = try self.string(key)
        return entities.entities[uid]?.tags[k] != nil
    }

    static func getTag(_ v: Value, _ key: Value, in entities: Entities) throws(CedarError) -> Value {
        let uid = try self.entity(v)
        let k = try self.string(key)
        guard let entity = entities.entities[uid] else { throw TypeCheck.entityNotFound(uid) }
        guard let t = entity.tags[k] else { throw TypeCheck.tagNotFound(uid, k) }
        return t
    }

    // MARK: hierarchy

    /// `lhs in rhs` where `rhs` is an entity or a set of entities (every element must be one).
    static func isIn(_ lhs: EntityUID, _ rhs: Value, in entities: Entities) throws(CedarError) -> Bool {
        switch rhs {
        case .entity(let e):
            return entities.isDescendant(lhs, of: e)
        case .set(let s):
            var found = false
            for element in s {
                guard case .entity(let e) = element else { throw TypeCheck.mismatch(TypeCheck.anyEntity, element) }
                if !found && entities.isDescendant(lhs, of: e) { found = true }
            }
            return found
        default:
            throw TypeCheck.mismatch(oneOf: ["set", TypeCheck.anyEntity], rhs)
        }
    }

    // MARK: comparison and arithmetic

    static func lessThan(_ l: Value, _ r: Value, orEqual: Bool) throws(CedarError) -> Bool {
        switch (l, r) {
        case (.long(let a), .long(let b)): return orEqual ? a <= b : a < b
        case (.ext(.datetime(let a)), .ext(.datetime(let b))): return orEqual ? a <= b : a < b
        case (.ext(.duration(let a)), .ext(.duration(let b))): return orEqual ? a <= b : a < b
        case (.long, _): throw TypeCheck.mismatch("long", r)
        case (.ext(.datetime), _): throw TypeCheck.mismatch("datetime", r)
        case (.ext(.duration), _): throw TypeCheck.mismatch("duration", r)
        default: throw TypeCheck.mismatch(oneOf: ["long", "datetime", "duration"], l)
        }
    }

    static func add(_ l: Value, _ r: Value) throws(CedarError) -> Value {
        let a = try self.long(l)
        let b = try self.long(r)
        let (v, o) = a.addingReportingOverflow(b)
        guard !o else { throw TypeCheck.overflow("add", a, b) }
        return .long(v)
    }

    static func subtract(_ l: Value, _ r: Value) throws(CedarError) -> Value {
        let a = try self.long(l)
        let b = try self.long(r)
        let (v, o) = a.subtractingReportingOverflow(b)
        guard !o else { throw TypeCheck.overflow("subtract", a, b) }
        return .long(v)
    }

    static func multiply(_ l: Value, _ r: Value) throws(CedarError) -> Value {
        let a = try self.long(l)
        let b = try self.long(r)
        let (v, o) = a.multipliedReportingOverflow(by: b)
        guard !o else { throw TypeCheck.overflow("multiply", a, b) }
        return .long(v)
    }

    static func negate(_ v: Value) throws(CedarError) -> Value {
        let a = try self.long(v)
        guard a != .min else { throw CedarError(.overflow, "integer overflow while attempting to negate the value `\(a)`") }
        return .long(-a)
    }

    // MARK: sets

    static func contains(_ l: Value, _ r: Value) throws(CedarError) -> Bool {
        try self.set(l).contains(r)
    }

    static func containsAll(_ l: Value, _ r: Value) throws(CedarError) -> Bool {
        let a = try self.set(l)
        let b = try self.set(r)
        return b.isSubset(of: a)
    }

    static func containsAny(_ l: Value, _ r: Value) throws(CedarError) -> Bool {
        let a = try self.set(l)
        let b = try self.set(r)
        return !a.isDisjoint(with: b)
    }
}
