/// Splits Cedar policy text into tokens and comments.
///
/// Works on UTF-8 bytes. Whitespace is any Unicode white space (as Cedar's lexer); comments run
/// from `//` to the next line feed or carriage return. Columns count Unicode scalars.
struct Lexer {
    let bytes: [UInt8]
    private var pos = 0
    private var line = 1
    private var lineStart = 0
    /// Scalars between `lineStart` and `pos`, kept incrementally so columns cost nothing.
    private var column = 1
    private(set) var comments: [Comment] = []
    /// Whether a token has been seen on the current line (for `Comment.ownLine`).
    private var tokenOnLine = false
    /// The last line holding a token or comment (0 before any).
    private var lastContentLine = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Lexes the whole input, ending with an `.eof` token.
    mutating func tokenize() throws(CedarError) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(self.bytes.count / 3 + 1)
        while true {
            let token = try self.next()
            tokens.append(token)
            if token.kind == .eof { return tokens }
        }
    }

    private var here: SourceLocation { SourceLocation(offset: self.pos, line: self.line, column: self.column) }

    /// Advances one byte, keeping line and column.
    private mutating func advance() {
        let b = self.bytes[self.pos]
        self.pos += 1
        if b == 0x0A {
            self.line += 1
            self.lineStart = self.pos
            self.column = 1
            self.tokenOnLine = false
        } else if b & 0xC0 != 0x80 {
            self.column += 1
        }
    }

    private mutating func advance(_ n: Int) {
        for _ in 0..<n { self.advance() }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        let i = self.pos + ahead
        return i < self.bytes.count ? self.bytes[i] : nil
    }

    /// Decodes the scalar starting at `i` (input is valid UTF-8 because it came from a String).
    static func scalar(in bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int) {
        let b0 = UInt32(bytes[i])
        var value: UInt32
        var len: Int
        if b0 < 0x80 {
            return (Unicode.Scalar(UInt8(b0)), 1)
        } else if b0 < 0xE0 {
            value = b0 & 0x1F
            len = 2
        } else if b0 < 0xF0 {
            value = b0 & 0x0F
            len = 3
        } else {
            value = b0 & 0x07
            len = 4
        }
        var k = 1
        while k < len, i + k < bytes.count {
            value = (value << 6) | (UInt32(bytes[i + k]) & 0x3F)
            k += 1
        }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", k)
    }

    private mutating func skipTrivia() {
        while self.pos < self.bytes.count {
            let b = self.bytes[self.pos]
            switch b {
            case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D:
                self.advance()
            case UInt8(ascii: "/") where self.peek(1) == UInt8(ascii: "/"):
                let start = self.pos
                let startLine = self.line
                let ownLine = !self.tokenOnLine
                while self.pos < self.bytes.count, self.bytes[self.pos] != 0x0A, self.bytes[self.pos] != 0x0D {
                    self.advance()
                }
                let text = String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
                let blank = self.lastContentLine > 0 && startLine > self.lastContentLine + 1
                self.comments.append(
                    Comment(start: start, end: self.pos, line: startLine, text: text, ownLine: ownLine, blankLineBefore: blank))
                self.lastContentLine = startLine
            case 0x80...:
                let (scalar, len) = Lexer.scalar(in: self.bytes, at: self.pos)
                guard scalar.properties.isWhitespace else { return }
                self.advance(len)
            default:
                return
            }
        }
    }

    private static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
    }

    static func isIdentContinue(_ b: UInt8) -> Bool {
        Lexer.isIdentStart(b) || (b >= 0x30 && b <= 0x39)
    }

    private mutating func next() throws(CedarError) -> Token {
        self.skipTrivia()
        let start = self.pos
        let line = self.line
        let column = self.column
        func make(_ kind: Token.Kind) -> Token {
            self.lastContentLine = self.line
            return Token(kind: kind, start: start, end: self.pos, line: line, column: column)
        }
        guard let b = self.peek() else { return make(.eof) }
        self.tokenOnLine = true
        if Lexer.isIdentStart(b) {
            while let c = self.peek(), Lexer.isIdentContinue(c) { self.advance() }
            return make(.ident)
        }
        if b >= 0x30 && b <= 0x39 {
            while let c = self.peek(), c >= 0x30 && c <= 0x39 { self.advance() }
            return make(.int)
        }
        switch b {
        case UInt8(ascii: "\""):
            self.advance()
            while true {
                guard let c = self.peek() else {
                    throw CedarError(.syntax, "unterminated string literal", at: SourceLocation(offset: start, line: line, column: column))
                }
                if c == UInt8(ascii: "\\") {
                    self.advance()
                    if self.peek() != nil { self.advance() }
                } else {
                    self.advance()
                    if c == UInt8(ascii: "\"") { return make(.string) }
                }
            }
        case UInt8(ascii: "?"):
            self.advance()
            while let c = self.peek(), Lexer.isIdentContinue(c) { self.advance() }
            let name = String(decoding: self.bytes[start..<self.pos], as: UTF8.self)
            guard name == "?principal" || name == "?resource" else {
                let shown = name == "?" ? "`?`" : "`\(name)`"
                throw CedarError(.syntax, "\(shown) is not a valid template slot (expected `?principal` or `?resource`)", at: make(.slot).location)
            }
            return make(.slot)
        case UInt8(ascii: "("):
            self.advance()
            return make(.lparen)
        case UInt8(ascii: ")"):
            self.advance()
            return make(.rparen)
        case UInt8(ascii: "["):
            self.advance()
            return make(.lbracket)
        case UInt8(ascii: "]"):
            self.advance()
            return make(.rbracket)
        case UInt8(ascii: "{"):
            self.advance()
            return make(.lbrace)
        case UInt8(ascii: "}"):
            self.advance()
            return make(.rbrace)
        case UInt8(ascii: ","):
            self.advance()
            return make(.comma)
        case UInt8(ascii: ";"):
            self.advance()
            return make(.semicolon)
        case UInt8(ascii: "."):
            self.advance()
            return make(.dot)
        case UInt8(ascii: "@"):
            self.advance()
            return make(.at)
        case UInt8(ascii: "+"):
            self.advance()
            return make(.plus)
        case UInt8(ascii: "-"):
            self.advance()
            return make(.minus)
        case UInt8(ascii: "*"):
            self.advance()
            return make(.star)
        case UInt8(ascii: ":"):
            self.advance()
            if self.peek() == UInt8(ascii: ":") {
                self.advance()
                return make(.doubleColon)
            }
            return make(.colon)
        case UInt8(ascii: "="):
            self.advance()
            if self.peek() == UInt8(ascii: "=") {
                self.advance()
                return make(.eq)
            }
            throw CedarError(.syntax, "unexpected `=`; did you mean `==`?", at: make(.eq).location)
        case UInt8(ascii: "!"):
            self.advance()
            if self.peek() == UInt8(ascii: "=") {
                self.advance()
                return make(.neq)
            }
            return make(.bang)
        case UInt8(ascii: "<"):
            self.advance()
            if self.peek() == UInt8(ascii: "=") {
                self.advance()
                return make(.le)
            }
            return make(.lt)
        case UInt8(ascii: ">"):
            self.advance()
            if self.peek() == UInt8(ascii: "=") {
                self.advance()
                return make(.ge)
            }
            return make(.gt)
        case UInt8(ascii: "&"):
            self.advance()
            if self.peek() == UInt8(ascii: "&") {
                self.advance()
                return make(.and)
            }
            throw CedarError(.syntax, "unexpected `&`; did you mean `&&`?", at: make(.and).location)
        case UInt8(ascii: "|"):
            self.advance()
            if self.peek() == UInt8(ascii: "|") {
                self.advance()
                return make(.or)
            }
            throw CedarError(.syntax, "unexpected `|`; did you mean `||`?", at: make(.or).location)
        default:
            let (scalar, _) = Lexer.scalar(in: self.bytes, at: self.pos)
            let shown =
                scalar.value < 0x20 || scalar.value == 0x7F
                ? "U+" + String(scalar.value, radix: 16, uppercase: true) : "`\(Character(scalar))`"
            let hint = scalar == "'" ? "; string literals use double quotes" : ""
            throw CedarError(.syntax, "unexpected character \(shown)\(hint)", at: self.here)
        }
    }
}
