/// Cedar's escapes in value JSON, recognised as Cedar does without a schema: an object whose only
/// member is `__entity` holding `{"type": string, "id": string}`, or `__extn` holding
/// `{"fn": string, "arg": any}` or `{"fn": string, "args": [any]}`. Anything else, including an
/// escape key beside other members or holding another shape, is an ordinary record (Cedar falls
/// back to a record the same way). `{"__expr": string}` is an error: that escape was removed.
enum ValueEscape {
    case entity(EntityUID)
    case `extension`(String, [JSONValue])

    init?(_ o: JSONObject) throws(CedarError) {
        guard o.count == 1, let (key, value) = o.first, case .object(let inner) = value else {
            if o.count == 1, case ("__expr", .string)? = o.first {
                throw CedarError(.json, "the `__expr` escape is no longer supported")
            }
            return nil
        }
        switch key {
        case "__entity":
            guard case .string(let type)? = inner["type"], case .string(let id)? = inner["id"] else { return nil }
            self = .entity(EntityUID(type: try JSONBridge.entityType(type), id: id))
        case "__extn":
            guard let (fn, args) = Self.call(inner) else { return nil }
            self = .extension(fn, args)
        default:
            return nil
        }
    }

    /// `{"fn": string, "arg": any}` (preferred) or `{"fn": string, "args": [any]}`.
    static func call(_ o: JSONObject) -> (String, [JSONValue])? {
        guard case .string(let fn)? = o["fn"] else { return nil }
        if let arg = o["arg"] { return (fn, [arg]) }
        if case .array(let args)? = o["args"] { return (fn, args) }
        return nil
    }
}

/// The recursive reader behind ``Value/init(json:expected:schema:)``.
enum ValueJSONReader {
    /// Recursion bound for values built in code (parsed JSON is already bounded by its reader).
    static let maxDepth = 512

    static func read(_ json: JSONValue, expected: SchemaType?, schema: Schema?, depth: Int) throws(CedarError) -> Value {
        guard depth <= self.maxDepth else { throw CedarError(.limitExceeded, "value nested deeper than \(self.maxDepth) levels") }
        guard let expected else { return try self.readUntyped(json, depth: depth) }
        switch expected {
        case .bool, .long, .string:
            let v = try self.readUntyped(json, depth: depth)
            try self.check(v, expected)
            return v
        case .entity(let type):
            let uid: EntityUID
            if case .object(let o) = json, o["__entity"] != nil || (o["type"] != nil && o["id"] != nil) {
                uid = try EntityUID(json: json)
            } else {
                let v = try self.readUntyped(json, depth: depth)
                throw self.mismatch(expected, v)
            }
            guard uid.type == type else { throw self.mismatch(expected, .entity(uid)) }
            try schema?.checkEnumerated(uid)
            return .entity(uid)
        case .extension(let typeName):
            let v: Value
            switch json {
            case .string(let s):
                guard let fn = JSONBridge.constructorName(forType: typeName) else {
                    throw CedarError(.json, "unknown extension type `\(typeName)`")
                }
                v = try JSONBridge.callExtension(fn, [.string(s)])
            case .object(let o) where o["__extn"] == nil && o["fn"] != nil:
                v = try self.readExtensionCall(o, depth: depth)
            default:
                v = try self.readUntyped(json, depth: depth)
            }
            try self.check(v, expected)
            return v
        case .set(let element):
            guard case .array(let items) = json else { throw self.mismatch(expected, try self.readUntyped(json, depth: depth)) }
            var out = Set<Value>()
            out.reserveCapacity(items.count)
            for item in items { out.insert(try self.read(item, expected: element, schema: schema, depth: depth + 1)) }
            return .set(out)
        case .record(let recordType):
            guard case .object(let o) = json, o["__entity"] == nil, o["__extn"] == nil else {
                throw self.mismatch(expected, try self.readUntyped(json, depth: depth))
            }
            return .record(try self.readRecord(o, type: recordType, schema: schema, depth: depth))
        }
    }

    /// Reads a record against its declared attributes.
    static func readRecord(_ o: JSONObject, type: RecordType, schema: Schema?, depth: Int) throws(CedarError) -> [String: Value] {
        var fields: [String: Value] = [:]
        fields.reserveCapacity(o.count)
        for (key, item) in o {
            guard let attr = type.attributes[key] else {
                throw CedarError(.json, "record attribute `\(key)` should not exist according to the schema")
            }
            do {
                fields[key] = try self.read(item, expected: attr.type, schema: schema, depth: depth + 1)
            } catch {
                throw error.prefixed("in attribute `\(key)`, ")
            }
        }
        for key in type.attributes.keys.sorted() where type.attributes[key]?.isRequired == true && fields[key] == nil {
            throw CedarError(.json, "expected the record to have an attribute `\(key)`, but it does not")
        }
        return fields
    }

    static func readUntyped(_ json: JSONValue, depth: Int) throws(CedarError) -> Value {
        guard depth <= self.maxDepth else { throw CedarError(.limitExceeded, "value nested deeper than \(self.maxDepth) levels") }
        switch json {
        case .null: throw CedarError(.json, "found a `null`; JSON `null`s are not allowed in Cedar")
        case .bool(let b): return .bool(b)
        case .int(let i): return .long(i)
        case .double(let d): throw CedarError(.json, "found the number `\(d)`; Cedar numbers must be integers that fit in 64 bits")
        case .string(let s): return .string(s)
        case .array(let items):
            var out = Set<Value>()
            out.reserveCapacity(items.count)
            for item in items { out.insert(try self.readUntyped(item, depth: depth + 1)) }
            return .set(out)
        case .object(let o):
            switch try ValueEscape(o) {
            case .entity(let uid): return .entity(uid)
            case .extension(let fn, let args):
                var values: [Value] = []
                for a in args { values.append(try self.readUntyped(a, depth: depth + 1)) }
                return try JSONBridge.callExtension(fn, values)
            case nil: break
            }
            var fields: [String: Value] = [:]
            fields.reserveCapacity(o.count)
            for (key, item) in o {
                do {
                    fields[key] = try self.readUntyped(item, depth: depth + 1)
                } catch {
                    throw error.prefixed("in attribute `\(key)`, ")
                }
            }
            return .record(fields)
        }
    }

    /// `{"fn": name, "arg": x}` or `{"fn": name, "args": [x, …]}` (schema-directed form without `__extn`).
    static func readExtensionCall(_ call: JSONObject, depth: Int) throws(CedarError) -> Value {
        guard let (fn, args) = ValueEscape.call(call) else { throw CedarError(.json, "expected `{\"fn\": …, \"arg\": …}`") }
        var values: [Value] = []
        for a in args { values.append(try self.readUntyped(a, depth: depth + 1)) }
        return try JSONBridge.callExtension(fn, values)
    }

    static func check(_ v: Value, _ expected: SchemaType) throws(CedarError) {
        let ok: Bool
        switch (v, expected) {
        case (.bool, .bool), (.long, .long), (.string, .string): ok = true
        case (.ext(let e), .extension(let name)): ok = e.typeName == name
        default: ok = false
        }
        if !ok { throw self.mismatch(expected, v) }
    }

    static func mismatch(_ expected: SchemaType, _ actual: Value) -> CedarError {
        CedarError(.json, "type mismatch: value was expected to have type \(expected.cedarName), but it actually has type \(actual.typeName)")
    }
}

extension Schema {
    /// Throws if `uid` has an enumerated entity type and its id is not one of the declared ones.
    func checkEnumerated(_ uid: EntityUID) throws(CedarError) {
        if let values = self.entityTypes[uid.type]?.enumValues, !values.contains(uid.id) {
            throw CedarError(
                .json, "entity `\(uid)` is of an enumerated entity type, but `\(CedarText.quoted(uid.id))` is not declared as a valid eid")
        }
    }
}

extension SchemaType {
    /// The type as written in a Cedar schema (`Long`, `Set<String>`, `User`, `{ a: Long }`).
    var cedarName: String {
        switch self {
        case .bool: "bool"
        case .long: "long"
        case .string: "string"
        case .entity(let t): "`\(t.name)`"
        case .set(let e): "Set<\(e.cedarName)>"
        case .record(let r):
            "{ " + r.attributes.keys.sorted().map { k in "\(k)\(r.attributes[k]?.isRequired == false ? "?" : ""): \(r.attributes[k]?.type.cedarName ?? "")" }
                .joined(separator: ", ") + " }"
        case .extension(let n): n
        }
    }
}
