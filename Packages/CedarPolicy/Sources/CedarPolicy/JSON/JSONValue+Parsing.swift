extension JSONValue {
    /// Bounds on the input the JSON reader accepts; exceeding one is a `.limitExceeded` error.
    public struct Limits: Hashable, Sendable {
        /// Maximum nesting of arrays and objects (default 256).
        public var maxDepth: Int
        /// Maximum input size in bytes (default 64 MiB).
        public var maxBytes: Int

        public init(maxDepth: Int = 256, maxBytes: Int = 64 << 20) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
        }

        public static let `default` = Limits()
    }

    /// Parses one JSON text (RFC 8259): exactly one value, optionally surrounded by whitespace.
    ///
    /// Errors are `.json` (malformed input, duplicate object keys, lone surrogates, raw control
    /// characters in strings, numbers outside the `Double` range) or `.limitExceeded`, each with
    /// the line and column of the problem.
    public init(parsing text: String, limits: Limits = .default) throws(CedarError) {
        var text = text
        var result: Result<JSONValue, CedarError> = .success(.null)
        text.withUTF8 { buffer in
            result = JSONParser.parse(buffer, limits: limits, baseOffset: 0, baseLine: 1)
        }
        self = try result.get()
    }

    /// Parses one JSON text from UTF-8 bytes; invalid UTF-8 inside strings is a `.json` error.
    public init(parsing bytes: [UInt8], limits: Limits = .default) throws(CedarError) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            JSONParser.parse(buffer, limits: limits, baseOffset: 0, baseLine: 1)
        }
        self = try result.get()
    }

    /// Parses one JSON text from a slice of UTF-8 bytes (a line of a larger buffer) without copying it.
    /// Error offsets are relative to the slice's start.
    public init(parsing bytes: ArraySlice<UInt8>, limits: Limits = .default) throws(CedarError) {
        let result = bytes.withUnsafeBufferPointer { buffer in
            JSONParser.parse(buffer, limits: limits, baseOffset: 0, baseLine: 1)
        }
        self = try result.get()
    }

    /// Parses one JSON text from UTF-8 bytes already in memory.
    public init(parsing buffer: UnsafeBufferPointer<UInt8>, limits: Limits = .default) throws(CedarError) {
        self = try JSONParser.parse(buffer, limits: limits, baseOffset: 0, baseLine: 1).get()
    }
}

/// The recursive-descent reader behind ``JSONValue/init(parsing:limits:)``.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONValue.Limits
    let baseOffset: Int
    let baseLine: Int
    var pos = 0
    /// Reused buffer for strings with escapes.
    var scratch: [UInt8] = []

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: JSONValue.Limits, baseOffset: Int, baseLine: Int)
        -> Result<JSONValue, CedarError>
    {
        var parser = JSONParser(bytes: bytes, limits: limits, baseOffset: baseOffset, baseLine: baseLine)
        do throws(CedarError) {
            guard bytes.count <= limits.maxBytes else {
                throw CedarError(.limitExceeded, "JSON input of \(bytes.count) bytes exceeds the limit of \(limits.maxBytes) bytes",
                                 at: SourceLocation(offset: baseOffset, line: baseLine, column: 1))
            }
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.pos < bytes.count {
                throw parser.error("unexpected characters after the JSON value")
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    // MARK: Errors

    /// The line and column (in Unicode scalars) of byte `offset`.
    func location(at offset: Int) -> SourceLocation {
        var line = self.baseLine
        var column = 1
        var i = 0
        let end = min(offset, self.bytes.count)
        while i < end {
            let b = self.bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourceLocation(offset: self.baseOffset + offset, line: line, column: column)
    }

    func error(_ message: String, at offset: Int? = nil, code: CedarError.Code = .json) -> CedarError {
        CedarError(code, message, at: self.location(at: offset ?? self.pos))
    }

    func describeCurrent() -> String {
        guard self.pos < self.bytes.count else { return "end of input" }
        let b = self.bytes[self.pos]
        if b >= 0x21 && b < 0x7F { return "`\(Character(Unicode.Scalar(b)))`" }
        return "byte 0x" + String(b, radix: 16)
    }

    // MARK: Grammar

    mutating func skipWhitespace() {
        while self.pos < self.bytes.count {
            switch self.bytes[self.pos] {
            case 0x20, 0x09, 0x0A, 0x0D: self.pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(CedarError) -> JSONValue {
        self.skipWhitespace()
        guard self.pos < self.bytes.count else { throw self.error("unexpected end of input, expected a JSON value") }
        switch self.bytes[self.pos] {
        case UInt8(ascii: "{"): return try self.parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try self.parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        default:
            throw self.error("unexpected \(self.describeCurrent()), expected a JSON value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(CedarError) {
        let start = self.pos
        let n = word.utf8CodeUnitCount
        let ok = word.withUTF8Buffer { w in
            guard self.bytes.count - self.pos >= n else { return false }
            for i in 0..<n where self.bytes[self.pos + i] != w[i] { return false }
            return true
        }
        guard ok else { throw self.error("invalid literal, expected `\(word)`", at: start) }
        self.pos += n
    }

    mutating func parseObject(depth: Int) throws(CedarError) -> JSONValue {
        guard depth <= self.limits.maxDepth else {
            throw self.error("JSON nesting deeper than \(self.limits.maxDepth) levels", code: .limitExceeded)
        }
        self.pos += 1  // {
        var object = JSONObject(minimumCapacity: 4)
        self.skipWhitespace()
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "}") {
            self.pos += 1
            return .object(object)
        }
        while true {
            self.skipWhitespace()
            guard self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "\"") else {
                throw self.error("unexpected \(self.describeCurrent()), expected a string key")
            }
            let keyStart = self.pos
            let key = try self.parseString()
            self.skipWhitespace()
            guard self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: ":") else {
                throw self.error("unexpected \(self.describeCurrent()), expected `:`")
            }
            self.pos += 1
            let value = try self.parseValue(depth: depth)
            guard object.insert(key, value) else {
                throw self.error("duplicate key `\(key)` in object", at: keyStart)
            }
            self.skipWhitespace()
            guard self.pos < self.bytes.count else { throw self.error("unexpected end of input, expected `,` or `}`") }
            let b = self.bytes[self.pos]
            self.pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "}") { return .object(object) }
            self.pos -= 1
            throw self.error("unexpected \(self.describeCurrent()), expected `,` or `}`")
        }
    }

    mutating func parseArray(depth: Int) throws(CedarError) -> JSONValue {
        guard depth <= self.limits.maxDepth else {
            throw self.error("JSON nesting deeper than \(self.limits.maxDepth) levels", code: .limitExceeded)
        }
        self.pos += 1  // [
        var array: [JSONValue] = []
        self.skipWhitespace()
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "]") {
            self.pos += 1
            return .array(array)
        }
        while true {
            array.append(try self.parseValue(depth: depth))
            self.skipWhitespace()
            guard self.pos < self.bytes.count else { throw self.error("unexpected end of input, expected `,` or `]`") }
            let b = self.bytes[self.pos]
            self.pos += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "]") { return .array(array) }
            self.pos -= 1
            throw self.error("unexpected \(self.describeCurrent()), expected `,` or `]`")
        }
    }

    mutating func parseString() throws(CedarError) -> String {
        let open = self.pos
        self.pos += 1  // "
        let start = self.pos
        // Fast path: no escapes. ASCII needs no UTF-8 validation.
        var high: UInt8 = 0
        while self.pos < self.bytes.count {
            let b = self.bytes[self.pos]
            if b == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: self.bytes[start..<self.pos])
                self.pos += 1
                if high < 0x80 { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else {
                    throw self.error("invalid UTF-8 in string", at: open)
                }
                return s
            }
            high |= b
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw self.error("unescaped control character in string") }
            self.pos += 1
        }
        guard self.pos < self.bytes.count else { throw self.error("unterminated string", at: open) }
        // Slow path: copy into scratch, decoding escapes.
        self.scratch.removeAll(keepingCapacity: true)
        self.scratch.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[start..<self.pos]))
        while self.pos < self.bytes.count {
            let b = self.bytes[self.pos]
            if b == UInt8(ascii: "\"") {
                guard let s = String(validating: self.scratch, as: UTF8.self) else {
                    throw self.error("invalid UTF-8 in string", at: open)
                }
                self.pos += 1
                return s
            }
            if b < 0x20 { throw self.error("unescaped control character in string") }
            if b != UInt8(ascii: "\\") {
                self.scratch.append(b)
                self.pos += 1
                continue
            }
            let escapeStart = self.pos
            self.pos += 1
            guard self.pos < self.bytes.count else { break }
            let e = self.bytes[self.pos]
            self.pos += 1
            switch e {
            case UInt8(ascii: "\""): self.scratch.append(0x22)
            case UInt8(ascii: "\\"): self.scratch.append(0x5C)
            case UInt8(ascii: "/"): self.scratch.append(0x2F)
            case UInt8(ascii: "b"): self.scratch.append(0x08)
            case UInt8(ascii: "f"): self.scratch.append(0x0C)
            case UInt8(ascii: "n"): self.scratch.append(0x0A)
            case UInt8(ascii: "r"): self.scratch.append(0x0D)
            case UInt8(ascii: "t"): self.scratch.append(0x09)
            case UInt8(ascii: "u"):
                var code = try self.parseHex4(escapeStart: escapeStart)
                if code >= 0xD800 && code <= 0xDBFF {
                    guard self.bytes.count - self.pos >= 2, self.bytes[self.pos] == UInt8(ascii: "\\"),
                        self.bytes[self.pos + 1] == UInt8(ascii: "u")
                    else { throw self.error("lone high surrogate in \\u escape", at: escapeStart) }
                    self.pos += 2
                    let low = try self.parseHex4(escapeStart: self.pos - 2)
                    guard low >= 0xDC00 && low <= 0xDFFF else {
                        throw self.error("high surrogate not followed by a low surrogate", at: escapeStart)
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if code >= 0xDC00 && code <= 0xDFFF {
                    throw self.error("lone low surrogate in \\u escape", at: escapeStart)
                }
                guard let scalar = Unicode.Scalar(code) else { throw self.error("invalid \\u escape", at: escapeStart) }
                self.scratch.append(contentsOf: UTF8.encode(scalar).unsafelyUnwrapped)
            default:
                throw self.error("invalid escape sequence in string", at: escapeStart)
            }
        }
        throw self.error("unterminated string", at: open)
    }

    mutating func parseHex4(escapeStart: Int) throws(CedarError) -> UInt32 {
        guard self.bytes.count - self.pos >= 4 else { throw self.error("incomplete \\u escape", at: escapeStart) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = self.bytes[self.pos]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default: throw self.error("invalid hex digit in \\u escape", at: escapeStart)
            }
            v = v << 4 | UInt32(d)
            self.pos += 1
        }
        return v
    }

    mutating func parseNumber() throws(CedarError) -> JSONValue {
        let start = self.pos
        var negative = false
        if self.bytes[self.pos] == UInt8(ascii: "-") {
            negative = true
            self.pos += 1
        }
        func isDigit(_ i: Int) -> Bool {
            i < self.bytes.count && self.bytes[i] >= UInt8(ascii: "0") && self.bytes[i] <= UInt8(ascii: "9")
        }
        guard isDigit(self.pos) else { throw self.error("invalid number: expected a digit") }
        var integer: Int64 = 0
        var overflow = false
        if self.bytes[self.pos] == UInt8(ascii: "0") {
            self.pos += 1
            if isDigit(self.pos) { throw self.error("invalid number: leading zero", at: start) }
        } else {
            while isDigit(self.pos) {
                let d = Int64(self.bytes[self.pos] - UInt8(ascii: "0"))
                if !overflow {
                    // Accumulate negatively so Int64.min fits.
                    let (m, o1) = integer.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(d)
                    if o1 || o2 { overflow = true } else { integer = s }
                }
                self.pos += 1
            }
        }
        var isInteger = true
        if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: ".") {
            isInteger = false
            self.pos += 1
            guard isDigit(self.pos) else { throw self.error("invalid number: expected a digit after `.`") }
            while isDigit(self.pos) { self.pos += 1 }
        }
        if self.pos < self.bytes.count, self.bytes[self.pos] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            self.pos += 1
            if self.pos < self.bytes.count, self.bytes[self.pos] == UInt8(ascii: "+") || self.bytes[self.pos] == UInt8(ascii: "-") {
                self.pos += 1
            }
            guard isDigit(self.pos) else { throw self.error("invalid number: expected a digit in the exponent") }
            while isDigit(self.pos) { self.pos += 1 }
        }
        if isInteger && !overflow {
            if negative { return .int(integer) }
            let (p, o) = (0 as Int64).subtractingReportingOverflow(integer)
            if !o { return .int(p) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.pos]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            throw self.error("number `\(text.prefix(40))` is out of range", at: start)
        }
        return .double(d)
    }
}
