extension Policy {
    /// This policy or template in Cedar's JSON policy format: `effect`, `principal`, `action`,
    /// `resource`, `conditions`, and `annotations` when there are any.
    ///
    /// Written as Cedar writes it: `action in [A]` becomes `{"op": "in", "entity": A}`.
    ///
    /// - Note: the AST stores a bare `@key` as `@key("")`, so both are written as `""` (Cedar writes
    ///   `null` for a bare annotation).
    public var json: JSONValue {
        var o = JSONObject()
        o.insert("effect", .string(self.effect.rawValue))
        o.insert("principal", Self.scopeJSON(self.principal))
        o.insert("action", Self.actionJSON(self.action))
        o.insert("resource", Self.scopeJSON(self.resource))
        o.insert("conditions", .array(self.conditions.map { ["kind": .string($0.kind.rawValue), "body": $0.body.json] }))
        if !self.annotations.isEmpty {
            var a = JSONObject()
            for annotation in self.annotations { a[annotation.key] = .string(annotation.value) }
            o.insert("annotations", .object(a))
        }
        return .object(o)
    }

    /// Reads a policy or template in Cedar's JSON policy format, giving it `id`.
    ///
    /// Unknown fields and slots in conditions are rejected, as Cedar does; a `null` annotation value
    /// (bare `@key`) reads as "".
    public init(json: JSONValue, id: String) throws(CedarError) {
        do throws(CedarError) {
            let o = try ESTReader.object(json, "a policy")
            try ESTReader.only(o, ["effect", "principal", "action", "resource", "conditions", "annotations"], "a policy")
            let effect: Effect
            switch try ESTReader.string(o, "effect", "a policy") {
            case "permit": effect = .permit
            case "forbid": effect = .forbid
            case let other: throw CedarError(.json, "unknown effect `\(other)`")
            }
            let principal = try Self.scope(try ESTReader.field(o, "principal", "a policy"), slot: .principal, role: "principal")
            let action = try Self.actionScope(try ESTReader.field(o, "action", "a policy"))
            let resource = try Self.scope(try ESTReader.field(o, "resource", "a policy"), slot: .resource, role: "resource")
            guard case .array(let conditionList) = try ESTReader.field(o, "conditions", "a policy") else {
                throw CedarError(.json, "`conditions` must be an array")
            }
            var conditions: [Condition] = []
            for c in conditionList {
                let co = try ESTReader.object(c, "a condition")
                try ESTReader.only(co, ["kind", "body"], "a condition")
                let kind: Condition.Kind
                switch try ESTReader.string(co, "kind", "a condition") {
                case "when": kind = .when
                case "unless": kind = .unless
                case let other: throw CedarError(.json, "unknown condition kind `\(other)`")
                }
                let body = try Expr(json: try ESTReader.field(co, "body", "a condition"))
                guard !body.containsSlot else { throw CedarError(.json, "template slots may appear only in the policy scope") }
                conditions.append(Condition(kind: kind, body: body))
            }
            var annotations: [Annotation] = []
            if let a = o["annotations"] {
                for (key, value) in try ESTReader.object(a, "`annotations`") {
                    guard Self.isAnnotationKey(key) else { throw CedarError(.json, "invalid annotation key `\(key)`") }
                    switch value {
                    case .string(let s): annotations.append(Annotation(key: key, value: s))
                    case .null: annotations.append(Annotation(key: key, value: ""))
                    default: throw CedarError(.json, "annotation `\(key)` must be a string or null")
                    }
                }
            }
            self.init(
                id: id, annotations: annotations, effect: effect, principal: principal, action: action, resource: resource,
                conditions: conditions)
        } catch {
            throw error.prefixed("in policy `\(id)`: ")
        }
    }

    /// Annotation keys are identifiers; unlike attribute names they may be reserved words (`@if`).
    static func isAnnotationKey(_ key: String) -> Bool {
        var first = true
        for b in key.utf8 {
            let letter = (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || b == UInt8(ascii: "_")
            guard letter || (!first && b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else { return false }
            first = false
        }
        return !first
    }

    static func referenceJSON(_ ref: EntityReference) -> (String, JSONValue) {
        switch ref {
        case .uid(let uid): ("entity", uid.json)
        case .slot(let s): ("slot", .string(s.rawValue))
        }
    }

    static func scopeJSON(_ c: ScopeConstraint) -> JSONValue {
        var o = JSONObject()
        switch c {
        case .any: o.insert("op", "All")
        case .eq(let r), .in(let r):
            o.insert("op", .string(c.isEq ? "==" : "in"))
            let (k, v) = Self.referenceJSON(r)
            o.insert(k, v)
        case .is(let t):
            o.insert("op", "is")
            o.insert("entity_type", .string(t.name))
        case .isIn(let t, let r):
            o.insert("op", "is")
            o.insert("entity_type", .string(t.name))
            let (k, v) = Self.referenceJSON(r)
            o.insert("in", .object(JSONObject([(k, v)]) ?? JSONObject()))
        }
        return .object(o)
    }

    static func actionJSON(_ c: ActionConstraint) -> JSONValue {
        switch c {
        case .any: ["op": "All"]
        case .eq(let uid): ["op": "==", "entity": uid.json]
        case .in(let uid): ["op": "in", "entity": uid.json]
        // Cedar writes a one-element list as a single entity.
        case .inSet(let uids) where uids.count == 1: ["op": "in", "entity": uids[0].json]
        case .inSet(let uids): ["op": "in", "entities": .array(uids.map(\.json))]
        }
    }

    /// `{"entity": uid}` or `{"slot": "?principal"}` (only the slot matching `slot` is allowed).
    /// As in Cedar, `entity` wins when both are present and other members are ignored.
    static func reference(_ o: JSONObject, slot: SlotID, what: String) throws(CedarError) -> EntityReference {
        if let e = o["entity"] { return .uid(try EntityUID(json: e)) }
        guard case .string(let s)? = o["slot"] else { throw CedarError(.json, "\(what) needs an `entity` or a `slot`") }
        guard s == slot.rawValue else { throw CedarError(.json, "\(what) cannot use the slot `\(s)`") }
        return .slot(slot)
    }

    /// Reads a principal or resource scope; like Cedar, members other than those of its `op` are
    /// ignored, except in the `is` form.
    static func scope(_ json: JSONValue, slot: SlotID, role: String) throws(CedarError) -> ScopeConstraint {
        let o = try ESTReader.object(json, "the \(role) scope")
        let what = "the \(role) scope"
        switch try ESTReader.string(o, "op", what) {
        case "All":
            return .any
        case "==":
            return .eq(try self.reference(o, slot: slot, what: what))
        case "in":
            return .in(try self.reference(o, slot: slot, what: what))
        case "is":
            // Cedar's `is` form, unlike the others, rejects unknown members.
            try ESTReader.only(o, ["op", "entity_type", "in"], what)
            let type = try JSONBridge.entityType(try ESTReader.string(o, "entity_type", what))
            guard let inJSON = o["in"] else { return .is(type) }
            let inObject = try ESTReader.object(inJSON, "`in` of \(what)")
            return .isIn(type, try self.reference(inObject, slot: slot, what: what))
        case let other:
            throw CedarError(.json, "unknown operator `\(other)` in \(what)")
        }
    }

    /// Reads the action scope; like Cedar, members other than those of its `op` are ignored and
    /// `entity` wins over `entities`.
    static func actionScope(_ json: JSONValue) throws(CedarError) -> ActionConstraint {
        let what = "the action scope"
        let o = try ESTReader.object(json, what)
        func action(_ j: JSONValue) throws(CedarError) -> EntityUID {
            let uid = try EntityUID(json: j)
            guard uid.type.isAction else { throw CedarError(.json, "`\(uid)` in \(what) is not an action entity") }
            return uid
        }
        switch try ESTReader.string(o, "op", what) {
        case "All":
            return .any
        case "==":
            return .eq(try action(try ESTReader.field(o, "entity", what)))
        case "in":
            if let e = o["entity"] { return .in(try action(e)) }
            guard case .array(let items) = try ESTReader.field(o, "entities", what) else {
                throw CedarError(.json, "`entities` of \(what) must be an array")
            }
            var uids: [EntityUID] = []
            for item in items { uids.append(try action(item)) }
            return .inSet(uids)
        case let other:
            throw CedarError(.json, "unknown operator `\(other)` in \(what)")
        }
    }
}

extension Expr {
    /// Whether a template slot occurs anywhere in this expression.
    var containsSlot: Bool {
        switch self.kind {
        case .slot: true
        case .literal, .variable: false
        case .not(let e), .negate(let e), .isEmpty(let e), .getAttr(let e, _), .hasAttr(let e, _), .like(let e, _): e.containsSlot
        case .and(let l, let r), .or(let l, let r), .binary(_, let l, let r): l.containsSlot || r.containsSlot
        case .ifThenElse(let c, let t, let e): c.containsSlot || t.containsSlot || e.containsSlot
        case .isType(let e, _, let x): e.containsSlot || (x?.containsSlot ?? false)
        case .set(let items), .call(_, let items): items.contains { $0.containsSlot }
        case .record(let entries): entries.contains { $0.value.containsSlot }
        }
    }
}

extension ScopeConstraint {
    fileprivate var isEq: Bool {
        if case .eq = self { return true }
        return false
    }
}
