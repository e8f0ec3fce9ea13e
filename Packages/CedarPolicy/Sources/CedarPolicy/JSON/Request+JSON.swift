extension Request {
    /// Reads `{"principal", "action", "resource", "context"?}`.
    ///
    /// Each entity is `{"type", "id"}`, `{"__entity": {…}}` or Cedar text `Type::"id"`; `context`
    /// defaults to `{}` and must be an object. With a `schema` the request is validated as Cedar's
    /// `validateRequest` does: the action is declared and applies to the principal and resource
    /// types, enumerated ids are declared, and the context conforms to the action's context type
    /// (read schema-directed). Errors have code `.request`.
    public init(json: JSONValue, schema: Schema? = nil) throws(CedarError) {
        guard case .object(let o) = json else { throw CedarError(.request, "a request must be a JSON object, found \(json.kindName)") }
        func uid(_ key: String) throws(CedarError) -> EntityUID {
            guard let v = o[key] else { throw CedarError(.request, "request is missing `\(key)`") }
            do {
                if case .string(let text) = v { return try JSONBridge.entityUID(text) }
                return try EntityUID(json: v)
            } catch {
                throw error.prefixed("in `\(key)`: ", code: .request)
            }
        }
        let principal = try uid("principal")
        let action = try uid("action")
        let resource = try uid("resource")
        var contextJSON = JSONObject()
        if let c = o["context"] {
            guard case .object(let obj) = c else { throw CedarError(.request, "`context` must be an object, found \(c.kindName)") }
            // As in Cedar, a context written as an entity or extension escape is that value, not a
            // record with one odd attribute, and so is rejected.
            if obj.count == 1, let only = obj.keys.first, only == "__entity" || only == "__extn" {
                let value: Value
                do { value = try Value(json: c) } catch { throw error.prefixed("in context, ", code: .request) }
                if case .record = value {} else {
                    throw CedarError(.request, "`context` must be a record, found \(value.typeName) written as `\(only)`")
                }
            }
            contextJSON = obj
        }
        guard let schema else {
            var context: [String: Value] = [:]
            for (key, v) in contextJSON {
                do {
                    context[key] = try Value(json: v)
                } catch {
                    throw error.prefixed("in context attribute `\(key)`, ", code: .request)
                }
            }
            self.init(principal: principal, action: action, resource: resource, context: context)
            return
        }
        let request = Request(principal: principal, action: action, resource: resource)
        self = try request.validated(contextJSON: contextJSON, schema: schema)
    }

    /// Validates this request's principal, action and resource against `schema` and reads
    /// `contextJSON` against the action's context type.
    func validated(contextJSON: JSONObject, schema: Schema) throws(CedarError) -> Request {
        guard let decl = schema.actions[self.action] else {
            throw CedarError(.request, "action `\(self.action)` does not exist in the supplied schema")
        }
        let applies = decl.appliesTo ?? ActionDeclaration.AppliesTo(principalTypes: [], resourceTypes: [])
        let context: [String: Value]
        do {
            context = try ValueJSONReader.readRecord(contextJSON, type: applies.context, schema: schema, depth: 0)
        } catch {
            throw error.prefixed("while parsing context, ", code: .request)
        }
        for (role, uid, allowed) in [("principal", self.principal, applies.principalTypes), ("resource", self.resource, applies.resourceTypes)] {
            do {
                try schema.checkEnumerated(uid)
            } catch {
                throw error.prefixed("", code: .request)
            }
            guard allowed.contains(uid.type) else {
                throw CedarError(.request, "\(role) type `\(uid.type)` is not valid for `\(self.action)`")
            }
        }
        var out = self
        out.context = context
        return out
    }

    /// `{"principal", "action", "resource", "context"}` with entities as `{"type", "id"}`.
    public var json: JSONValue {
        ["principal": self.principal.json, "action": self.action.json, "resource": self.resource.json,
         "context": Value.record(self.context).json]
    }
}
