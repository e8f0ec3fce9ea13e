/// A token of Cedar schema syntax.
struct SchemaToken: Sendable {
    enum Kind: Equatable, Sendable {
        case identifier(String)
        case string(String)
        /// One of `{ } [ ] ( ) < > , ; : :: = ? @`.
        case punct(String)
        case end
    }
    var kind: Kind
    var location: SourceLocation

    var identifier: String? {
        if case .identifier(let s) = self.kind { return s }
        return nil
    }

    var describe: String {
        switch self.kind {
        case .identifier(let s): "`\(s)`"
        case .string(let s): CedarText.quoted(s)
        case .punct(let p): "`\(p)`"
        case .end: "end of input"
        }
    }
}

/// Splits Cedar schema text into tokens, skipping whitespace and `//` comments.
struct SchemaLexer {
    /// Tokens longer than this many bytes, or inputs with more tokens than `maxTokens`, are rejected.
    static let maxTokens = 2_000_000

    static func tokenize(_ text: String) throws(CedarError) -> [SchemaToken] {
        let scalars = Array(text.unicodeScalars)
        var tokens: [SchemaToken] = []
        var i = 0
        var line = 1
        var column = 1
        var offset = 0

        func advance(_ n: Int = 1) {
            for _ in 0..<n where i < scalars.count {
                let s = scalars[i]
                offset += String(s).utf8.count
                if s == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
                i += 1
            }
        }

        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace {
                advance()
                continue
            }
            if c == "/", i + 1 < scalars.count, scalars[i + 1] == "/" {
                while i < scalars.count, scalars[i] != "\n" { advance() }
                continue
            }
            let loc = SourceLocation(offset: offset, line: line, column: column)
            if tokens.count >= Self.maxTokens {
                throw CedarError(.limitExceeded, "schema has too many tokens", at: loc)
            }
            if Self.isIdentStart(c) {
                var s = String.UnicodeScalarView()
                while i < scalars.count, Self.isIdentContinue(scalars[i]) {
                    s.append(scalars[i])
                    advance()
                }
                tokens.append(SchemaToken(kind: .identifier(String(s)), location: loc))
                continue
            }
            if c == "\"" {
                advance()
                var raw: [Unicode.Scalar] = []
                var closed = false
                while i < scalars.count {
                    let d = scalars[i]
                    if d == "\"" {
                        advance()
                        closed = true
                        break
                    }
                    if d == "\\" {
                        raw.append(d)
                        advance()
                        if i < scalars.count {
                            raw.append(scalars[i])
                            advance()
                        }
                        continue
                    }
                    raw.append(d)
                    advance()
                }
                guard closed else { throw CedarError(.syntax, "unterminated string literal", at: loc) }
                let value = try Self.unescape(raw, at: loc)
                tokens.append(SchemaToken(kind: .string(value), location: loc))
                continue
            }
            if c == ":", i + 1 < scalars.count, scalars[i + 1] == ":" {
                advance(2)
                tokens.append(SchemaToken(kind: .punct("::"), location: loc))
                continue
            }
            if "{}[]()<>,;:=?@".unicodeScalars.contains(c) {
                advance()
                tokens.append(SchemaToken(kind: .punct(String(c)), location: loc))
                continue
            }
            throw CedarError(.syntax, "unexpected character `\(c)`", at: loc)
        }
        tokens.append(SchemaToken(kind: .end, location: SourceLocation(offset: offset, line: line, column: column)))
        return tokens
    }

    static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    static func isIdentContinue(_ c: Unicode.Scalar) -> Bool {
        Self.isIdentStart(c) || (c >= "0" && c <= "9")
    }

    /// Cedar string escapes: `\n \r \t \\ \0 \' \"` and `\u{X…}`.
    static func unescape(_ raw: [Unicode.Scalar], at loc: SourceLocation) throws(CedarError) -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == "\\" else {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < raw.count else { throw CedarError(.syntax, "invalid escape in string literal", at: loc) }
            let e = raw[i + 1]
            i += 2
            switch e {
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "\\": out.append("\\")
            case "0": out.append("\0")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "u":
                guard i < raw.count, raw[i] == "{" else {
                    throw CedarError(.syntax, "invalid unicode escape in string literal", at: loc)
                }
                i += 1
                var value: UInt32 = 0
                var digits = 0
                while i < raw.count, raw[i] != "}" {
                    guard let d = Self.hexValue(raw[i]), digits < 6 else {
                        throw CedarError(.syntax, "invalid unicode escape in string literal", at: loc)
                    }
                    value = value * 16 + d
                    digits += 1
                    i += 1
                }
                guard i < raw.count, digits > 0, let scalar = Unicode.Scalar(value) else {
                    throw CedarError(.syntax, "invalid unicode escape in string literal", at: loc)
                }
                i += 1
                out.append(scalar)
            default:
                throw CedarError(.syntax, "invalid escape `\\\(e)` in string literal", at: loc)
            }
        }
        return String(out)
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": c.value - 48
        case "a"..."f": c.value - 87
        case "A"..."F": c.value - 55
        default: nil
        }
    }
}
