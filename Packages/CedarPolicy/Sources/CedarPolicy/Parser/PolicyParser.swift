/// The recursive-descent parser behind ``CedarParser``: state, token helpers and limits.
///
/// Grammar and checks follow Cedar 4.x (`cedar-policy-core`'s grammar plus its CST-to-AST
/// conversion), so text accepted here is text Cedar accepts, with the same AST.
struct PolicyParser {
    let bytes: [UInt8]
    let tokens: [Token]
    let comments: [Comment]
    var pos = 0
    /// Current recursion depth through ``parseExpr()``.
    var nesting = 0
    /// Whether `?principal`/`?resource` may appear inside expressions (standalone expressions only).
    var allowSlotsInExpressions = false
    /// Where each parsed policy's parts are, for the formatter's comment placement.
    var spans: [PolicySpan] = []

    init(text: String) throws(CedarError) {
        let count = text.utf8.count
        guard count <= CedarParser.maxTextBytes else {
            throw CedarError(
                .limitExceeded, "policy text is \(count) bytes; the limit is \(CedarParser.maxTextBytes) bytes",
                at: SourceLocation(offset: 0, line: 1, column: 1))
        }
        self.bytes = Array(text.utf8)
        var lexer = Lexer(bytes: self.bytes)
        self.tokens = try lexer.tokenize()
        self.comments = lexer.comments
    }

    /// Byte offsets of a policy's parts in the source.
    struct PolicySpan {
        var start: Int
        var startLine: Int
        /// Start of the `)` closing the scope.
        var scopeEnd: Int
        /// Each condition: start of its keyword, end of its `}`.
        var clauses: [(start: Int, end: Int)]
        /// End of the `;`.
        var end: Int
        /// Keys of annotations written without a value (`@key`), as opposed to `@key("")`.
        var bareAnnotations: Set<String>
    }

    // MARK: Tokens

    var current: Token { self.tokens[self.pos] }

    func peek(_ ahead: Int) -> Token {
        let i = self.pos + ahead
        return i < self.tokens.count ? self.tokens[i] : self.tokens[self.tokens.count - 1]
    }

    mutating func advance() {
        if self.pos < self.tokens.count - 1 { self.pos += 1 }
    }

    func text(_ token: Token) -> String {
        String(decoding: self.bytes[token.start..<token.end], as: UTF8.self)
    }

    /// Whether `token` is the identifier (or keyword) `word`.
    func isWord(_ token: Token, _ word: StaticString) -> Bool {
        guard token.kind == .ident, token.end - token.start == word.utf8CodeUnitCount else { return false }
        return word.withUTF8Buffer { buf in
            var i = 0
            while i < buf.count {
                if buf[i] != self.bytes[token.start + i] { return false }
                i += 1
            }
            return true
        }
    }

    func isWord(_ word: StaticString) -> Bool { self.isWord(self.current, word) }

    /// How a token is shown in "found …" messages.
    func describe(_ token: Token) -> String {
        switch token.kind {
        case .eof: return "end of input"
        case .ident, .int, .slot: return "`\(self.text(token))`"
        case .string:
            let t = self.text(token)
            return t.unicodeScalars.count > 40 ? "string literal `\(String(t.prefix(37)))...`" : "string literal `\(t)`"
        default: return token.kind.displayName
        }
    }

    func error(_ message: String, at token: Token) -> CedarError {
        CedarError(.syntax, message, at: token.location)
    }

    /// "expected X, found Y" at the current token.
    func unexpected(_ expected: String) -> CedarError {
        self.error("expected \(expected), found \(self.describe(self.current))", at: self.current)
    }

    @discardableResult
    mutating func expect(_ kind: Token.Kind, _ what: String? = nil) throws(CedarError) -> Token {
        let token = self.current
        guard token.kind == kind else { throw self.unexpected(what ?? kind.displayName) }
        self.advance()
        return token
    }

    mutating func expectWord(_ word: StaticString) throws(CedarError) {
        guard self.isWord(word) else { throw self.unexpected("`\(word)`") }
        self.advance()
    }

    // MARK: Identifiers and literals

    /// Words that can never be identifiers (attribute names, record keys, name segments).
    static let reservedWords: Set<String> = ["true", "false", "if", "then", "else", "in", "is", "like", "has"]

    /// Reads an identifier usable as a name segment, attribute or record key.
    mutating func expectIdentifier(_ what: String) throws(CedarError) -> String {
        let token = self.current
        guard token.kind == .ident else { throw self.unexpected(what) }
        let name = self.text(token)
        if PolicyParser.reservedWords.contains(name) {
            throw self.error("this identifier is reserved and cannot be used: `\(name)`", at: token)
        }
        if name == "__cedar" {
            throw self.error("the name `__cedar` is reserved", at: token)
        }
        self.advance()
        return name
    }

    /// Decodes a string token's body.
    func stringValue(_ token: Token) throws(CedarError) -> String {
        let body = self.stringBody(token)
        switch StringLiteral.decode(body.unicodeScalars) {
        case .success(let s): return s
        case .failure(let bad): throw self.escapeError(bad, in: token)
        }
    }

    func patternValue(_ token: Token) throws(CedarError) -> Pattern {
        let body = self.stringBody(token)
        switch StringLiteral.decodePattern(body.unicodeScalars) {
        case .success(let elements): return Pattern(elements)
        case .failure(let bad): throw self.escapeError(bad, in: token)
        }
    }

    private func stringBody(_ token: Token) -> Substring {
        Substring(String(decoding: self.bytes[(token.start + 1)..<(token.end - 1)], as: UTF8.self))
    }

    private func escapeError(_ bad: StringLiteral.BadEscape, in token: Token) -> CedarError {
        // Point at the escape itself: the body starts one column after the quote.
        var offset = token.start + 1
        var column = token.column + 1
        var seen = 0
        while seen < bad.scalarOffset, offset < token.end {
            let (_, len) = Lexer.scalar(in: self.bytes, at: offset)
            offset += len
            column += 1
            seen += 1
        }
        // Multi-line strings: fall back to the token start if the escape is on a later line.
        let crossesLine = self.bytes[token.start..<offset].contains(0x0A)
        let location = crossesLine ? token.location : SourceLocation(offset: offset, line: token.line, column: column)
        return CedarError(.syntax, "the input `\(bad.text)` is not a valid escape", at: location)
    }
}
