/// Decoding of Cedar string literal bodies (Rust-style escapes, as Cedar).
enum StringLiteral {
    /// A decoded piece of a `like` pattern body.
    enum PatternPiece {
        case scalar(Unicode.Scalar)
        case wildcard
    }

    /// Decodes a string literal body (without quotes): `\n \r \t \\ \0 \' \"`, `\xHH` up to
    /// 0x7F and `\u{H…}` (1–6 hex digits, a valid scalar). Throws a message for a bad escape.
    static func decode(_ body: Substring.UnicodeScalarView) -> Result<String, BadEscape> {
        var out = String.UnicodeScalarView()
        let result = self.walk(body, pattern: false) { piece in
            if case .scalar(let s) = piece { out.append(s) }
        }
        switch result {
        case .success: return .success(String(out))
        case .failure(let e): return .failure(e)
        }
    }

    /// Decodes a `like` pattern body: as ``decode(_:)`` plus `\*` for a literal star, and an
    /// unescaped `*` as a wildcard.
    static func decodePattern(_ body: Substring.UnicodeScalarView) -> Result<[Pattern.Element], BadEscape> {
        var out: [Pattern.Element] = []
        let result = self.walk(body, pattern: true) { piece in
            switch piece {
            case .scalar(let s): out.append(.literal(s))
            case .wildcard: out.append(.wildcard)
            }
        }
        switch result {
        case .success: return .success(out)
        case .failure(let e): return .failure(e)
        }
    }

    /// An invalid escape: its text and its scalar offset within the body.
    struct BadEscape: Error {
        var text: String
        var scalarOffset: Int
    }

    private static func walk(
        _ body: Substring.UnicodeScalarView, pattern: Bool, emit: (PatternPiece) -> Void
    ) -> Result<Void, BadEscape> {
        var i = body.startIndex
        var offset = 0
        while i < body.endIndex {
            let c = body[i]
            if c != "\\" {
                emit(pattern && c == "*" ? .wildcard : .scalar(c))
                i = body.index(after: i)
                offset += 1
                continue
            }
            let escStart = i
            let escOffset = offset
            i = body.index(after: i)
            offset += 1
            func bad() -> BadEscape {
                BadEscape(text: String(String.UnicodeScalarView(body[escStart..<i])), scalarOffset: escOffset)
            }
            guard i < body.endIndex else { return .failure(bad()) }
            let e = body[i]
            i = body.index(after: i)
            offset += 1
            switch e {
            case "n": emit(.scalar("\n"))
            case "r": emit(.scalar("\r"))
            case "t": emit(.scalar("\t"))
            case "\\": emit(.scalar("\\"))
            case "0": emit(.scalar("\0"))
            case "'": emit(.scalar("'"))
            case "\"": emit(.scalar("\""))
            case "*" where pattern: emit(.scalar("*"))
            case "x":
                var value: UInt32 = 0
                for _ in 0..<2 {
                    guard i < body.endIndex, let d = hexValue(body[i]) else { return .failure(bad()) }
                    value = value * 16 + d
                    i = body.index(after: i)
                    offset += 1
                }
                guard value <= 0x7F, let s = Unicode.Scalar(value) else { return .failure(bad()) }
                emit(.scalar(s))
            case "u":
                guard i < body.endIndex, body[i] == "{" else { return .failure(bad()) }
                i = body.index(after: i)
                offset += 1
                var value: UInt32 = 0
                var digits = 0
                while i < body.endIndex, let d = hexValue(body[i]) {
                    value = value &* 16 &+ d
                    digits += 1
                    i = body.index(after: i)
                    offset += 1
                    if digits > 6 { return .failure(bad()) }
                }
                guard digits >= 1, i < body.endIndex, body[i] == "}" else { return .failure(bad()) }
                i = body.index(after: i)
                offset += 1
                guard let s = Unicode.Scalar(value) else { return .failure(bad()) }
                emit(.scalar(s))
            default:
                return .failure(bad())
            }
        }
        return .success(())
    }

    private static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c.value {
        case 0x30...0x39: c.value - 0x30
        case 0x41...0x46: c.value - 0x41 + 10
        case 0x61...0x66: c.value - 0x61 + 10
        default: nil
        }
    }
}
