extension Value {
    /// Reads a Cedar value in the JSON form used by entities, contexts and requests.
    ///
    /// Without `expected`: booleans, integers and strings map directly; arrays become sets;
    /// `{"__entity": {"type", "id"}}` is an entity reference; `{"__extn": {"fn", "arg"}}` (or
    /// `"args": [...]`) calls an extension constructor; any other object is a record. `null` and
    /// non-integer numbers are errors.
    ///
    /// With `expected` (schema-directed, as Cedar does with a schema): entity references may omit
    /// `__entity` (`{"type", "id"}`), extension values may be plain strings (`"0.6"` for a
    /// `decimal`), records must have exactly their declared attributes (required ones present, no
    /// undeclared ones), sets are element-typed, and every value must have the expected type.
    /// Errors have code `.json` (shape or type) or `.extensionError` (bad extension argument).
    public init(json: JSONValue, expected: SchemaType? = nil, schema: Schema? = nil) throws(CedarError) {
        self = try ValueJSONReader.read(json, expected: expected, schema: schema, depth: 0)
    }

    /// The JSON form of this value: entities as `{"__entity": …}`, extension values as
    /// `{"__extn": {"fn", "arg"}}`, sets as arrays in a deterministic order, records with sorted keys.
    public var json: JSONValue {
        switch self {
        case .bool(let b): return .bool(b)
        case .long(let i): return .int(i)
        case .string(let s): return .string(s)
        case .entity(let uid): return ["__entity": uid.json]
        case .set(let elements):
            let items = elements.map(\.json).map { ($0.serialized(), $0) }.sorted { $0.0 < $1.0 }
            return .array(items.map(\.1))
        case .record(let fields):
            var o = JSONObject()
            for key in fields.keys.sorted() {
                if let v = fields[key] { o.insert(key, v.json) }
            }
            return .object(o)
        case .ext(.datetime(let d)) where (try? CedarDatetime(parsing: d.description)) != d:
            // Outside the years 0000-9999 there is no datetime text; write the epoch plus an offset, as Cedar does.
            return ["__extn": ["fn": "offset", "args": [
                ["__extn": ["fn": "datetime", "arg": "1970-01-01"]],
                ["__extn": ["fn": "duration", "arg": .string("\(d.millis)ms")]],
            ]]]
        case .ext(let e):
            let (fn, arg) = JSONBridge.constructorText(e)
            return ["__extn": ["fn": .string(fn), "arg": .string(arg)]]
        }
    }
}
