extension StringLiteral {
    /// Decodes the string literal `token` of `bytes` (policy or schema text); a bad escape is a
    /// `.syntax` error located at the escape.
    static func value(of token: Token, in bytes: [UInt8]) throws(CedarError) -> String {
        switch self.decode(self.body(of: token, in: bytes).unicodeScalars) {
        case .success(let s): return s
        case .failure(let bad): throw self.escapeError(bad, in: token, bytes)
        }
    }

    /// Decodes the `like` pattern literal `token` of `bytes`.
    static func pattern(of token: Token, in bytes: [UInt8]) throws(CedarError) -> Pattern {
        switch self.decodePattern(self.body(of: token, in: bytes).unicodeScalars) {
        case .success(let elements): return Pattern(elements)
        case .failure(let bad): throw self.escapeError(bad, in: token, bytes)
        }
    }

    private static func body(of token: Token, in bytes: [UInt8]) -> Substring {
        Substring(String(decoding: bytes[(token.start + 1)..<(token.end - 1)], as: UTF8.self))
    }

    private static func escapeError(_ bad: BadEscape, in token: Token, _ bytes: [UInt8]) -> CedarError {
        // Point at the escape itself: the body starts one column after the quote.
        var offset = token.start + 1
        var column = token.column + 1
        var seen = 0
        while seen < bad.scalarOffset, offset < token.end {
            let (_, len) = Lexer.scalar(in: bytes, at: offset)
            offset += len
            column += 1
            seen += 1
        }
        // Multi-line strings: fall back to the token start if the escape is on a later line.
        let crossesLine = bytes[token.start..<offset].contains(0x0A)
        let location = crossesLine ? token.location : SourceLocation(offset: offset, line: token.line, column: column)
        return CedarError(.syntax, "the input `\(bad.text)` is not a valid escape", at: location)
    }
}
