/// The validator's types: Cedar's type system with singleton booleans, entity-type unions,
/// open/closed records and the bottom type.
indirect enum ValidatorType: Hashable, Sendable, CustomStringConvertible {
    enum BoolKind: Hashable, Sendable { case any, `true`, `false` }

    case never
    case bool(BoolKind)
    case long
    case string
    /// Entities of one of these types (never empty).
    case entity(Set<EntityType>)
    /// Any entity at all.
    case anyEntity
    /// A set; `nil` element means any set.
    case set(ValidatorType?)
    case record([String: ValidatorAttribute], open: Bool)
    case `extension`(String)

    static let anyBool = ValidatorType.bool(.any)
    static func singleton(_ b: Bool) -> ValidatorType { .bool(b ? .true : .false) }
    static func entity(_ t: EntityType) -> ValidatorType { .entity([t]) }
    static let anyRecord = ValidatorType.record([:], open: true)

    init(_ t: SchemaType) {
        switch t {
        case .bool: self = .anyBool
        case .long: self = .long
        case .string: self = .string
        case .entity(let e): self = .entity([e])
        case .set(let e): self = .set(ValidatorType(e))
        case .record(let r): self = .record(r.validatorAttributes, open: false)
        case .extension(let n): self = .extension(n)
        }
    }

    var isEntity: Bool {
        switch self {
        case .entity, .anyEntity: true
        default: false
        }
    }

    var description: String {
        switch self {
        case .never: "Never"
        case .bool(.any): "Bool"
        case .bool(.true): "True"
        case .bool(.false): "False"
        case .long: "Long"
        case .string: "String"
        case .entity(let ts): ts.count == 1 ? ts.first?.name ?? "" : "Union<\(ts.map(\.name).sorted().joined(separator: ", "))>"
        case .anyEntity: "AnyEntity"
        case .set(let e): "Set<\(e?.description ?? "Any")>"
        case .record(let attrs, let open):
            (open ? "OpenRecord" : "")
                + "{"
                + attrs.keys.sorted().map { k in "\(k)\(attrs[k]?.isRequired == false ? "?" : ""): \(attrs[k]?.type.description ?? "")" }
                .joined(separator: ", ") + "}"
        case .extension(let n): n
        }
    }

    /// `ty0 <: ty1`.
    static func isSubtype(_ ty0: ValidatorType, _ ty1: ValidatorType, strict: Bool) -> Bool {
        switch (ty0, ty1) {
        case (.never, _): return true
        case (.bool(let b0), .bool(let b1)): return b1 == .any || b0 == b1
        case (.long, .long), (.string, .string): return true
        case (.set(let e0), .set(let e1)):
            switch (e0, e1) {
            case (.some(let a), .some(let b)): return Self.isSubtype(a, b, strict: strict)
            case (.some, .none), (.none, .none): return true
            case (.none, .some): return false
            }
        case (.record(let a0, let open0), .record(let a1, let open1)):
            guard !open0 || open1 else { return false }
            if open1 && !strict && Self.attributesSubtype(a0, a1, strict: strict) { return true }
            return Set(a0.keys) == Set(a1.keys) && Self.attributesSubtype(a0, a1, strict: strict)
        case (.entity(let l0), .entity(let l1)): return strict ? l0 == l1 : l0.isSubset(of: l1)
        case (.anyEntity, .anyEntity): return true
        case (.entity, .anyEntity): return !strict
        case (.extension(let a), .extension(let b)): return a == b
        default: return false
        }
    }

    private static func attributesSubtype(_ a0: [String: ValidatorAttribute], _ a1: [String: ValidatorAttribute], strict: Bool) -> Bool {
        for (k, t1) in a1 {
            guard let t0 = a0[k] else { return false }
            let qualifier = strict ? t0.isRequired == t1.isRequired : (t0.isRequired || !t1.isRequired)
            guard qualifier, Self.isSubtype(t0.type, t1.type, strict: strict) else { return false }
        }
        return true
    }

    /// The least upper bound, or nil when the types are incompatible.
    static func leastUpperBound(_ ty0: ValidatorType, _ ty1: ValidatorType, strict: Bool) -> ValidatorType? {
        if Self.isSubtype(ty0, ty1, strict: strict) { return ty1 }
        if Self.isSubtype(ty1, ty0, strict: strict) { return ty0 }
        switch (ty0, ty1) {
        case (.bool, .bool): return .anyBool
        case (.set(nil), .set), (.set, .set(nil)): return .set(nil)
        case (.set(.some(let e0)), .set(.some(let e1))):
            guard let e = Self.leastUpperBound(e0, e1, strict: strict) else { return nil }
            return .set(e)
        case (.record(let a0, let open0), .record(let a1, let open1)):
            var attrs: [String: ValidatorAttribute] = [:]
            if strict && Set(a0.keys) != Set(a1.keys) { return nil }
            for (k, t0) in a0 {
                guard let t1 = a1[k] else { continue }
                guard let lub = Self.leastUpperBound(t0.type, t1.type, strict: strict) else {
                    if strict { return nil }
                    continue
                }
                if strict && t0.isRequired != t1.isRequired { return nil }
                attrs[k] = ValidatorAttribute(type: lub, isRequired: t0.isRequired && t1.isRequired)
            }
            let open = open0 || open1 || Set(attrs.keys) != Set(a0.keys).union(a1.keys)
            return .record(attrs, open: open)
        case (.entity(let l0), .entity(let l1)):
            if strict && l0 != l1 { return nil }
            return .entity(l0.union(l1))
        case (.anyEntity, .anyEntity): return .anyEntity
        case (.anyEntity, .entity), (.entity, .anyEntity): return strict ? nil : .anyEntity
        default: return nil
        }
    }
}

struct ValidatorAttribute: Hashable, Sendable {
    var type: ValidatorType
    var isRequired: Bool
}

extension RecordType {
    var validatorAttributes: [String: ValidatorAttribute] {
        var out: [String: ValidatorAttribute] = [:]
        for (k, a) in self.attributes {
            out[k] = ValidatorAttribute(type: ValidatorType(a.type), isRequired: a.isRequired)
        }
        return out
    }
}
