/// An entity UID as the differential generator writes it: rendered by hand, never through our engine.
struct DiffUID: Hashable {
    var type: String
    var id: String

    /// `Type::"id"` with Cedar string escapes.
    var cedar: String { "\(self.type)::\(DiffText.cedarString(self.id))" }
    /// `{"type":"Type","id":"id"}`
    var json: String { "{\"type\":\(DiffText.jsonString(self.type)),\"id\":\(DiffText.jsonString(self.id))}" }
}

/// A generated Cedar value, rendered both as Cedar text (for policies) and as entity JSON (for data).
indirect enum DiffValue {
    case bool(Bool)
    case long(Int64)
    case string(String)
    case entity(DiffUID)
    case set([DiffValue])
    case record([(String, DiffValue)])
    /// An extension constructor call: function name and its string argument.
    case ext(String, String)

    /// Cedar's JSON value form, with `__entity` and `__extn` escapes.
    var json: String {
        switch self {
        case .bool(let b): b ? "true" : "false"
        case .long(let n): String(n)
        case .string(let s): DiffText.jsonString(s)
        case .entity(let uid): "{\"__entity\":\(uid.json)}"
        case .set(let items): "[" + items.map(\.json).joined(separator: ",") + "]"
        case .record(let entries):
            "{" + entries.map { "\(DiffText.jsonString($0.0)):\($0.1.json)" }.joined(separator: ",") + "}"
        case .ext(let fn, let arg): "{\"__extn\":{\"fn\":\(DiffText.jsonString(fn)),\"arg\":\(DiffText.jsonString(arg))}}"
        }
    }

    /// The JSON form a schema makes unambiguous: extension values as bare strings and entity references as
    /// `{"type": …, "id": …}`, without the `__extn`/`__entity` escapes.
    var implicitJSON: String {
        switch self {
        case .entity(let uid): uid.json
        case .ext(_, let arg): DiffText.jsonString(arg)
        case .set(let items): "[" + items.map(\.implicitJSON).joined(separator: ",") + "]"
        case .record(let entries):
            "{" + entries.map { "\(DiffText.jsonString($0.0)):\($0.1.implicitJSON)" }.joined(separator: ",") + "}"
        default: self.json
        }
    }

    /// A Cedar expression that evaluates to this value.
    var cedar: String {
        switch self {
        case .bool(let b): b ? "true" : "false"
        case .long(let n): n < 0 ? "(\(n))" : String(n)
        case .string(let s): DiffText.cedarString(s)
        case .entity(let uid): uid.cedar
        case .set(let items): "[" + items.map(\.cedar).joined(separator: ", ") + "]"
        case .record(let entries):
            "{" + entries.map { "\(DiffText.recordKey($0.0)): \($0.1.cedar)" }.joined(separator: ", ") + "}"
        case .ext(let fn, let arg): "\(fn)(\(DiffText.cedarString(arg)))"
        }
    }
}

/// Hand-written escaping for Cedar string literals and JSON strings.
enum DiffText {
    static let keywords: Set<String> = [
        "true", "false", "if", "then", "else", "in", "is", "like", "has", "principal", "action", "resource", "context",
        "permit", "forbid", "when", "unless", "__cedar",
    ]

    /// A Cedar string literal, written here rather than with the engine's `CedarText.quoted` so the generator
    /// never depends on the code under test: quotes, backslashes and control characters escaped, others as they are
    /// (or, for some non-ASCII ones, as `\u{…}` escapes, which Cedar also accepts).
    static func cedarString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\0": out += "\\0"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value > 0x7F && scalar.value % 3 == 0) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A record-literal key: a bare identifier when possible, else a string.
    static func recordKey(_ key: String) -> String {
        Self.isIdentifier(key) && !Self.keywords.contains(key) ? key : Self.cedarString(key)
    }

    /// `.key` when the key is an identifier, else `["key"]`.
    static func access(_ key: String) -> String {
        Self.isIdentifier(key) && !Self.keywords.contains(key) ? ".\(key)" : "[\(Self.cedarString(key))]"
    }

    /// The right side of `has`: a bare identifier when possible, else a string.
    static func hasKey(_ key: String) -> String {
        Self.isIdentifier(key) && !Self.keywords.contains(key) ? key : Self.cedarString(key)
    }
}
