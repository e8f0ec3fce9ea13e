import LatchCore

/// A JSON value with a deterministic writer and a strict reader, for everything the identity layer
/// signs, verifies or publishes (JWS headers and claims, JWKS, bundles, discovery documents).
///
/// Writer: RFC 8785 canonical JSON (JCS): object keys sorted by their UTF-16 code units, no
/// whitespace, numbers and strings written by ``CanonicalJSON`` (ECMAScript number form, minimal
/// escaping). Hashes of records, tool definitions and arguments are hashes of these bytes.
/// Reader: RFC 8259, duplicate object keys rejected (a classic JWT confusion), nesting depth at
/// most 32, integers kept exact in `Int64`.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded(.towardZero) == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }

    // MARK: Writing

    /// The RFC 8785 canonical form (sorted keys, no whitespace, canonical numbers and strings).
    public var serialized: String { String(decoding: self.serializedBytes, as: UTF8.self) }

    public var serializedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        self.write(into: &out)
        return out
    }

    /// Appends the deterministic serialization (see ``serializedBytes``) to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): CanonicalJSON.appendInteger(i, to: &out)
        case .double(let d):
            // The reader never produces NaN or an infinity; one built in code is written as null.
            if !CanonicalJSON.appendNumber(d, to: &out) { out.append(contentsOf: "null".utf8) }
        case .string(let s): CanonicalJSON.appendString(s, to: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            let members = o.sorted { CanonicalJSON.keyPrecedes($0.key, $1.key) }
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes an integer as RFC 8785 does (``CanonicalJSON/appendInteger(_:to:)``).
    public static func writeInt(_ value: Int64, into out: inout [UInt8]) { CanonicalJSON.appendInteger(value, to: &out) }

    /// Writes a JSON string literal as RFC 8785 does (``CanonicalJSON/appendString(_:to:)``).
    public static func writeString(_ s: String, into out: inout [UInt8]) { CanonicalJSON.appendString(s, to: &out) }

    // MARK: Reading

    /// Parses UTF-8 JSON text; nil if it is not exactly one valid JSON value (surrounding whitespace
    /// allowed), has duplicate keys, or nests deeper than 32.
    public init?(parsing bytes: some Collection<UInt8>) {
        var parser = Parser(bytes: Array(bytes))
        guard let value = parser.parseValue(depth: 0) else { return nil }
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { return nil }
        self = value
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 32

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int) -> JSONValue? {
            if depth > Self.maxDepth { return nil }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var object: [String: JSONValue] = [:]
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(object)
                }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = parseString() else { return nil }
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    guard let value = parseValue(depth: depth + 1) else { return nil }
                    if object.updateValue(value, forKey: key) != nil { return nil }  // duplicate key
                    skipWhitespace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "}") {
                        index += 1
                        return .object(object)
                    }
                    return nil
                }
            case UInt8(ascii: "["):
                index += 1
                var array: [JSONValue] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(array)
                }
                while true {
                    guard let value = parseValue(depth: depth + 1) else { return nil }
                    array.append(value)
                    skipWhitespace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "]") {
                        index += 1
                        return .array(array)
                    }
                    return nil
                }
            case UInt8(ascii: "\""):
                return parseString().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true".utf8, .bool(true))
            case UInt8(ascii: "f"): return literal("false".utf8, .bool(false))
            case UInt8(ascii: "n"): return literal("null".utf8, .null)
            default: return parseNumber()
            }
        }

        mutating func literal(_ word: String.UTF8View, _ value: JSONValue) -> JSONValue? {
            let count = word.count
            guard index + count <= bytes.count, bytes[index..<index + count].elementsEqual(word) else { return nil }
            index += count
            return value
        }

        mutating func parseNumber() -> JSONValue? {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if index < bytes.count, isDigit(bytes[index]) { return nil }  // leading zero
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if isInteger, let i = Int64(text) { return .int(i) }
            guard let d = Double(text), d.isFinite else { return nil }
            return .double(d)
        }

        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        /// At a `"`; returns the decoded string and moves past the closing quote.
        mutating func parseString() -> String? {
            index += 1
            // Fast path: no escapes and no control characters before the closing quote.
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                let s = String(validating: bytes[index..<end], as: UTF8.self)
                index = end + 1
                return s
            }
            var out: [UInt8] = []
            while index < bytes.count {
                let b = bytes[index]
                switch b {
                case UInt8(ascii: "\""):
                    index += 1
                    // Reject invalid UTF-8 rather than repairing it.
                    guard let s = String(validating: out, as: UTF8.self) else { return nil }
                    return s
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return nil }
                    let e = bytes[index]
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = parseHex4() else { return nil }
                        if scalar >= 0xD800 && scalar < 0xDC00 {
                            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                return nil
                            }
                            index += 2
                            guard let low = parseHex4(), low >= 0xDC00 && low < 0xE000 else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if scalar >= 0xDC00 && scalar < 0xE000 {
                            return nil
                        }
                        guard let u = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: String(Character(u)).utf8)
                    default: return nil
                    }
                case 0..<0x20: return nil
                default:
                    out.append(b)
                    index += 1
                }
            }
            return nil
        }

        mutating func parseHex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: return nil
                }
                v = v << 4 | d
                index += 1
            }
            return v
        }
    }
}
