public import LatchCore
public import LatchIdentity

/// The stored form of a registration entry's attributes: canonical JSON text.
///
/// An object whose keys are sorted by UTF-16 code units (as RFC 8785), with no whitespace; values
/// are a JSON string (``EntryAttribute/string(_:)``), an integer (``EntryAttribute/long(_:)``),
/// `true`/`false` (``EntryAttribute/bool(_:)``) or an array of strings
/// (``EntryAttribute/strings(_:)``). Strings keep every Unicode scalar as written: only `"`, `\`
/// and control characters below U+0020 are escaped, so the text round-trips exactly and the same
/// attributes always give the same bytes (both stores keep the text as is).
///
/// Decoding is strict: anything else (floats, nested objects, `null`, duplicate keys, trailing
/// bytes, integers outside `Int64`) is an error, since only ``encode(_:)`` writes this column.
public enum AttributesJSON {
    /// Nesting and size limits for decoding (the column is written by us, but read defensively).
    public static let maxBytes = 1 << 20

    /// The canonical JSON text of `attributes`.
    public static func encode(_ attributes: [String: EntryAttribute]) -> String {
        var out = "{"
        let keys = attributes.keys.sorted { Array($0.utf16).lexicographicallyPrecedes(Array($1.utf16)) }
        for (index, key) in keys.enumerated() {
            if index > 0 { out += "," }
            JSONText.appendQuoted(key, to: &out)
            out += ":"
            switch attributes[key] {
            case .string(let value): JSONText.appendQuoted(value, to: &out)
            case .long(let value): out += String(value)
            case .bool(let value): out += value ? "true" : "false"
            case .strings(let values): JSONText.appendArray(values, to: &out)
            case nil: out += "null"  // unreachable: every key comes from the dictionary
            }
        }
        out += "}"
        return out
    }

    /// Parses text written by ``encode(_:)``.
    public static func decode(_ text: String) throws(LatchError) -> [String: EntryAttribute] {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxBytes else {
            throw LatchError(.invalidInput, "stored attributes exceed \(Self.maxBytes) bytes")
        }
        var reader = JSONReader(bytes: bytes)
        let result = try reader.readAttributes()
        return result
    }
}

/// Writing JSON strings and arrays of strings.
public enum JSONText {
    /// Appends `value` as a JSON string: `"`, `\` and controls below U+0020 escaped, all else as is.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out.unicodeScalars.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.unicodeScalars.append("\"")
    }

    /// Appends `values` as a JSON array of strings.
    public static func appendArray(_ values: [String], to out: inout String) {
        out += "["
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            Self.appendQuoted(value, to: &out)
        }
        out += "]"
    }

    /// A JSON array of strings.
    public static func array(_ values: [String]) -> String {
        var out = ""
        Self.appendArray(values, to: &out)
        return out
    }
}

/// A strict reader for the one JSON shape ``AttributesJSON`` writes.
struct JSONReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ what: String) -> LatchError {
        LatchError(.invalidInput, "stored attributes are not canonical JSON: \(what) at byte \(self.index)")
    }

    private var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    private mutating func expect(_ byte: UInt8) throws(LatchError) {
        guard self.current == byte else { throw self.fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        self.index += 1
    }

    mutating func readAttributes() throws(LatchError) -> [String: EntryAttribute] {
        var result: [String: EntryAttribute] = [:]
        try self.expect(UInt8(ascii: "{"))
        if self.current == UInt8(ascii: "}") {
            self.index += 1
        } else {
            while true {
                let key = try self.readString()
                try self.expect(UInt8(ascii: ":"))
                let value = try self.readValue()
                guard result.updateValue(value, forKey: key) == nil else { throw self.fail("duplicate key") }
                if self.current == UInt8(ascii: ",") {
                    self.index += 1
                    continue
                }
                try self.expect(UInt8(ascii: "}"))
                break
            }
        }
        guard self.index == self.bytes.count else { throw self.fail("trailing bytes") }
        return result
    }

    private mutating func readValue() throws(LatchError) -> EntryAttribute {
        switch self.current {
        case UInt8(ascii: "\""): return .string(try self.readString())
        case UInt8(ascii: "t"):
            try self.readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "["):
            self.index += 1
            var values: [String] = []
            if self.current == UInt8(ascii: "]") {
                self.index += 1
                return .strings(values)
            }
            while true {
                values.append(try self.readString())
                if self.current == UInt8(ascii: ",") {
                    self.index += 1
                    continue
                }
                try self.expect(UInt8(ascii: "]"))
                return .strings(values)
            }
        case let byte? where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            return .long(try self.readInteger())
        default: throw self.fail("unexpected value")
        }
    }

    private mutating func readLiteral(_ literal: String) throws(LatchError) {
        for byte in literal.utf8 { try self.expect(byte) }
    }

    private mutating func readInteger() throws(LatchError) -> Int64 {
        let start = self.index
        if self.current == UInt8(ascii: "-") { self.index += 1 }
        let digitsStart = self.index
        while let byte = self.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { self.index += 1 }
        let digits = self.index - digitsStart
        guard digits > 0 else { throw self.fail("integer without digits") }
        guard digits == 1 || self.bytes[digitsStart] != UInt8(ascii: "0") else { throw self.fail("leading zero") }
        guard let text = String(validating: self.bytes[start..<self.index], as: UTF8.self), let value = Int64(text) else {
            throw self.fail("integer out of range")
        }
        return value
    }

    private mutating func readHex4() throws(LatchError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = self.current else { throw self.fail("truncated \\u escape") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw self.fail("bad hex digit")
            }
            value = value * 16 + digit
            self.index += 1
        }
        return value
    }

    private mutating func readString() throws(LatchError) -> String {
        try self.expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var runStart = self.index
        func flush(_ reader: JSONReader, upTo end: Int, into scalars: inout String.UnicodeScalarView) throws(LatchError) {
            guard end > runStart else { return }
            guard let run = String(validating: reader.bytes[runStart..<end], as: UTF8.self) else {
                throw reader.fail("invalid UTF-8")
            }
            scalars.append(contentsOf: run.unicodeScalars)
        }
        while true {
            guard let byte = self.current else { throw self.fail("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                try flush(self, upTo: self.index, into: &scalars)
                self.index += 1
                return String(scalars)
            }
            if byte < 0x20 { throw self.fail("raw control character in string") }
            if byte != UInt8(ascii: "\\") {
                self.index += 1
                continue
            }
            try flush(self, upTo: self.index, into: &scalars)
            self.index += 1
            guard let escape = self.current else { throw self.fail("truncated escape") }
            self.index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try self.readHex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard self.current == UInt8(ascii: "\\") else { throw self.fail("lone high surrogate") }
                    self.index += 1
                    try self.expect(UInt8(ascii: "u"))
                    let low = try self.readHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw self.fail("bad low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw self.fail("lone surrogate") }
                scalars.append(scalar)
            default: throw self.fail("unknown escape")
            }
            runStart = self.index
        }
    }
}
