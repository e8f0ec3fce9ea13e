extension Schema {
    /// Parses and resolves a schema in Cedar's JSON schema format.
    public init(parsingJSON text: String) throws(CedarError) {
        try self.init(json: try JSONValue(parsing: text))
    }

    /// Resolves a schema in Cedar's JSON schema format:
    /// `{"Namespace": {"entityTypes": {…}, "actions": {…}, "commonTypes": {…}}}`.
    public init(json: JSONValue) throws(CedarError) {
        self = try SchemaBuilder.build(try JSONSchemaReader.read(json))
    }
}

/// Reads the JSON schema format into a `RawSchema`.
enum JSONSchemaReader {
    static let maxDepth = 128

    static func read(_ json: JSONValue) throws(CedarError) -> RawSchema {
        let top = try self.object(json, "schema")
        var schema = RawSchema()
        for (name, value) in top {
            let body = try self.object(value, "namespace `\(name)`")
            try self.allowOnly(body, ["entityTypes", "actions", "commonTypes", "annotations"], "namespace `\(name)`")
            guard body["entityTypes"] != nil, body["actions"] != nil else {
                throw CedarError(.schema, "namespace `\(name)` needs `entityTypes` and `actions`")
            }
            var ns = RawNamespace(name: name)
            if !name.isEmpty, !self.isPath(name) {
                throw CedarError(.schema, "invalid namespace name `\(name)`")
            }
            if let common = body["commonTypes"] {
                for (typeName, t) in try self.object(common, "commonTypes") {
                    if SchemaBuilder.primitiveNames.contains(typeName) || CedarSchemaParser.builtinTypeNames.contains(typeName)
                        || !self.isIdentifier(typeName) {
                        throw CedarError(.schema, "`\(typeName)` cannot be used as a common type name")
                    }
                    ns.commonTypes.append((typeName, try self.type(t, depth: 0), nil))
                }
            }
            if let entities = body["entityTypes"] {
                for (typeName, e) in try self.object(entities, "entityTypes") {
                    guard self.isIdentifier(typeName) else { throw CedarError(.schema, "invalid entity type name `\(typeName)`") }
                    ns.entityTypes.append(try self.entityType(typeName, e))
                }
            }
            if let actions = body["actions"] {
                for (actionName, a) in try self.object(actions, "actions") {
                    ns.actions.append(try self.action(actionName, a))
                }
            }
            schema.namespaces.append(ns)
        }
        return schema
    }

    private static func entityType(_ name: String, _ json: JSONValue) throws(CedarError) -> RawEntityType {
        let body = try self.object(json, "entity type `\(name)`")
        if let values = body["enum"] {
            try self.allowOnly(body, ["enum", "annotations"], "entity type `\(name)`")
            guard let array = values.arrayValue, !array.isEmpty else {
                throw CedarError(.schema, "`enum` of entity type `\(name)` must be a non-empty array of strings")
            }
            var strings: [String] = []
            for v in array {
                guard let s = v.stringValue else { throw CedarError(.schema, "`enum` of entity type `\(name)` must hold strings") }
                strings.append(s)
            }
            return RawEntityType(name: name, memberOf: [], shape: nil, tags: nil, enumValues: strings, location: nil)
        }
        try self.allowOnly(body, ["memberOfTypes", "shape", "tags", "annotations"], "entity type `\(name)`")
        var parents: [(name: String, location: SourceLocation?)] = []
        if let m = body["memberOfTypes"] {
            for p in try self.strings(m, "memberOfTypes") { parents.append((p, nil)) }
        }
        let shape: RawType? = try body["shape"].map { (s: JSONValue) throws(CedarError) -> RawType in try self.type(s, depth: 0) }
        let tags: RawType? = try body["tags"].map { (s: JSONValue) throws(CedarError) -> RawType in try self.type(s, depth: 0) }
        return RawEntityType(name: name, memberOf: parents, shape: shape, tags: tags, enumValues: nil, location: nil)
    }

    private static func action(_ name: String, _ json: JSONValue) throws(CedarError) -> RawAction {
        let body = try self.object(json, "action `\(name)`")
        try self.allowOnly(body, ["memberOf", "appliesTo", "attributes", "annotations"], "action `\(name)`")
        if let attrs = body["attributes"], attrs != .null {
            throw CedarError(.schema, "action attributes are not supported (action `\(name)`)")
        }
        var parents: [RawActionRef] = []
        if let m = body["memberOf"], m != .null {
            guard let array = m.arrayValue else { throw CedarError(.schema, "`memberOf` of action `\(name)` must be an array") }
            for item in array {
                let ref = try self.object(item, "`memberOf` entry of action `\(name)`")
                try self.allowOnly(ref, ["id", "type"], "`memberOf` entry of action `\(name)`")
                guard let id = ref["id"]?.stringValue else {
                    throw CedarError(.schema, "`memberOf` entry of action `\(name)` needs a string `id`")
                }
                var type: String?
                if let t = ref["type"] {
                    guard let s = t.stringValue, self.isPath(s) else {
                        throw CedarError(.schema, "`memberOf` entry of action `\(name)` has an invalid `type`")
                    }
                    type = s
                }
                parents.append(RawActionRef(type: type, id: id, location: nil))
            }
        }
        var applies: RawAppliesTo?
        if let a = body["appliesTo"], a != .null {
            let spec = try self.object(a, "`appliesTo` of action `\(name)`")
            try self.allowOnly(spec, ["principalTypes", "resourceTypes", "context"], "`appliesTo` of action `\(name)`")
            guard let p = spec["principalTypes"] else {
                throw CedarError(.schema, "`appliesTo` of action `\(name)` needs `principalTypes`")
            }
            guard let r = spec["resourceTypes"] else {
                throw CedarError(.schema, "`appliesTo` of action `\(name)` needs `resourceTypes`")
            }
            let context: RawType? = try spec["context"].map { (c: JSONValue) throws(CedarError) -> RawType in try self.type(c, depth: 0) }
            applies = RawAppliesTo(
                principals: try self.strings(p, "principalTypes").map { ($0, nil) },
                resources: try self.strings(r, "resourceTypes").map { ($0, nil) },
                context: context)
        }
        return RawAction(name: name, memberOf: parents, appliesTo: applies, location: nil)
    }

    /// A type: `{"type": "Long" | "String" | "Boolean" | "Set" | "Record" | "Entity" | "Extension" |
    /// "EntityOrCommon" | <common type name>, …}`.
    static func type(_ json: JSONValue, depth: Int) throws(CedarError) -> RawType {
        if depth > Self.maxDepth { throw CedarError(.limitExceeded, "schema types are nested too deeply") }
        let body = try self.object(json, "type")
        guard let kind = body["type"]?.stringValue else { throw CedarError(.schema, "a schema type needs a string `type` field") }
        func name() throws(CedarError) -> String {
            guard let n = body["name"]?.stringValue, self.isPath(n) else {
                throw CedarError(.schema, "a `\(kind)` type needs a valid `name`")
            }
            return n
        }
        let common: Set<String> = ["type", "annotations"]
        switch kind {
        case "Long":
            try self.allowOnly(body, common, "`Long` type")
            return .long
        case "String":
            try self.allowOnly(body, common, "`String` type")
            return .string
        case "Boolean":
            try self.allowOnly(body, common, "`Boolean` type")
            return .bool
        case "Set":
            try self.allowOnly(body, common.union(["element"]), "`Set` type")
            guard let element = body["element"] else { throw CedarError(.schema, "a `Set` type needs an `element` type") }
            return .set(try self.type(element, depth: depth + 1))
        case "Record":
            try self.allowOnly(body, common.union(["attributes", "additionalAttributes"]), "`Record` type")
            if let extra = body["additionalAttributes"], extra != .bool(false) {
                throw CedarError(.schema, "`additionalAttributes` is not supported")
            }
            var attrs: [RawAttribute] = []
            guard let a = body["attributes"] else { throw CedarError(.schema, "a `Record` type needs `attributes`") }
            do {
                for (attrName, attrJSON) in try self.object(a, "attributes") {
                    let attrBody = try self.object(attrJSON, "attribute `\(attrName)`")
                    var required = true
                    if let r = attrBody["required"] {
                        guard let b = r.boolValue else { throw CedarError(.schema, "`required` of attribute `\(attrName)` must be a boolean") }
                        required = b
                    }
                    var typeBody = JSONObject()
                    for (k, v) in attrBody where k != "required" { typeBody[k] = v }
                    attrs.append(RawAttribute(name: attrName, type: try self.type(.object(typeBody), depth: depth + 1),
                                              isRequired: required, location: nil))
                }
            }
            return .record(attrs)
        case "Entity":
            try self.allowOnly(body, common.union(["name"]), "`Entity` type")
            return .reference(try name(), .entity, nil)
        case "Extension":
            try self.allowOnly(body, common.union(["name"]), "`Extension` type")
            let n = try name()
            guard SchemaBuilder.extensionNames.contains(n) else { throw CedarError(.schema, "unknown extension type `\(n)`") }
            return .extension(n)
        case "EntityOrCommon":
            try self.allowOnly(body, common.union(["name"]), "`EntityOrCommon` type")
            return .reference(try name(), .commonOrEntity, nil)
        default:
            try self.allowOnly(body, common, "`\(kind)` type")
            guard self.isPath(kind) else { throw CedarError(.schema, "unknown schema type `\(kind)`") }
            return .reference(kind, .common, nil)
        }
    }

    private static func object(_ json: JSONValue, _ what: String) throws(CedarError) -> JSONObject {
        guard let o = json.objectValue else { throw CedarError(.schema, "\(what) must be a JSON object, found \(json.kindName)") }
        return o
    }

    private static func strings(_ json: JSONValue, _ what: String) throws(CedarError) -> [String] {
        guard let array = json.arrayValue else { throw CedarError(.schema, "`\(what)` must be an array of type names") }
        var out: [String] = []
        for v in array {
            guard let s = v.stringValue, self.isPath(s) else { throw CedarError(.schema, "`\(what)` must hold valid type names") }
            out.append(s)
        }
        return out
    }

    private static func allowOnly(_ o: JSONObject, _ keys: Set<String>, _ what: String) throws(CedarError) {
        for k in o.keys where !keys.contains(k) {
            throw CedarError(.schema, "unexpected field `\(k)` in \(what)")
        }
    }

    /// A name segment: ``CedarParser/isValidIdentifier(_:)``, except that `__cedar` passes here
    /// (the callers decide where the `__cedar` namespace is allowed).
    static func isIdentifier(_ s: some StringProtocol) -> Bool {
        let name = String(s)
        return name == "__cedar" || CedarParser.isValidIdentifier(name)
    }

    static func isPath(_ s: String) -> Bool {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        // `A::B` splits into ["A", "", "B"].
        guard parts.count % 2 == 1 else { return false }
        for (i, p) in parts.enumerated() {
            if i % 2 == 1 {
                guard p.isEmpty else { return false }
            } else if !(self.isIdentifier(p) || (i == 0 && p == "__cedar")) {
                return false
            }
        }
        return true
    }
}
