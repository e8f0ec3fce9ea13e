extension CedarError {
    /// The error as a compiler-style diagnostic for `source` (the text it came from):
    /// `file:line:col: message`, then the offending source line, then a caret line (`^` under a
    /// one-character token, `^^^…` under a longer one).
    ///
    /// Without a location, or when the location is outside `source`, only `file: message`.
    public func rendered(source: String, file: String) -> String {
        guard let location, location.line > 0 else { return "\(file): \(self.message)" }
        let header = "\(file):\(location.line):\(location.column): \(self.message)"
        let bytes = Array(source.utf8)
        guard location.offset >= 0, location.offset <= bytes.count else { return header }
        var lineStart = location.offset
        while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
        var lineEnd = location.offset
        while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
        var lineBytes = bytes[lineStart..<lineEnd]
        if lineBytes.last == 0x0D { lineBytes = lineBytes.dropLast() }
        let line = String(decoding: lineBytes, as: UTF8.self)
        // Keep tabs so the caret lines up with the text above it.
        var pad = ""
        for scalar in String(decoding: bytes[lineStart..<min(location.offset, lineEnd)], as: UTF8.self).unicodeScalars {
            pad.append(scalar == "\t" ? "\t" : " ")
        }
        let width = CedarError.tokenWidth(bytes, at: location.offset, lineEnd: lineEnd)
        return header + "\n" + line + "\n" + pad + String(repeating: "^", count: max(1, width))
    }

    /// The number of scalars in the token starting at `offset` (at least 1, within its line).
    static func tokenWidth(_ bytes: [UInt8], at offset: Int, lineEnd: Int) -> Int {
        guard offset < lineEnd else { return 1 }
        let b = bytes[offset]
        var end = offset + 1
        if Lexer.isIdentContinue(b) {
            while end < lineEnd, Lexer.isIdentContinue(bytes[end]) { end += 1 }
        } else if b == UInt8(ascii: "\"") {
            while end < lineEnd {
                if bytes[end] == UInt8(ascii: "\\") {
                    end += 2
                    continue
                }
                end += 1
                if bytes[end - 1] == UInt8(ascii: "\"") { break }
            }
            end = min(end, lineEnd)
        } else if b == UInt8(ascii: "?") {
            while end < lineEnd, Lexer.isIdentContinue(bytes[end]) { end += 1 }
        } else if end < lineEnd {
            let pair = (b, bytes[end])
            switch pair {
            case (UInt8(ascii: "="), UInt8(ascii: "=")), (UInt8(ascii: "!"), UInt8(ascii: "=")),
                (UInt8(ascii: "<"), UInt8(ascii: "=")), (UInt8(ascii: ">"), UInt8(ascii: "=")),
                (UInt8(ascii: "&"), UInt8(ascii: "&")), (UInt8(ascii: "|"), UInt8(ascii: "|")),
                (UInt8(ascii: ":"), UInt8(ascii: ":")):
                end += 1
            default:
                break
            }
        }
        var count = 0
        var i = offset
        while i < end {
            if bytes[i] & 0xC0 != 0x80 { count += 1 }
            i += 1
        }
        return count
    }
}
