/// One lexical token of Cedar policy text.
struct Token: Sendable {
    enum Kind: UInt8, Sendable {
        case ident, int, string, slot
        case lparen, rparen, lbracket, rbracket, lbrace, rbrace
        case comma, semicolon, colon, doubleColon, dot, at
        case eq, neq, lt, le, gt, ge, and, or
        case plus, minus, star, bang
        case eof
    }

    var kind: Kind
    /// Byte range in the UTF-8 source. For a string, the range includes the quotes.
    var start: Int
    var end: Int
    var line: Int
    var column: Int

    var location: SourceLocation { SourceLocation(offset: self.start, line: self.line, column: self.column) }
}

extension Token.Kind {
    /// How this token kind is named in error messages.
    var displayName: String {
        switch self {
        case .ident: "identifier"
        case .int: "integer literal"
        case .string: "string literal"
        case .slot: "template slot"
        case .lparen: "`(`"
        case .rparen: "`)`"
        case .lbracket: "`[`"
        case .rbracket: "`]`"
        case .lbrace: "`{`"
        case .rbrace: "`}`"
        case .comma: "`,`"
        case .semicolon: "`;`"
        case .colon: "`:`"
        case .doubleColon: "`::`"
        case .dot: "`.`"
        case .at: "`@`"
        case .eq: "`==`"
        case .neq: "`!=`"
        case .lt: "`<`"
        case .le: "`<=`"
        case .gt: "`>`"
        case .ge: "`>=`"
        case .and: "`&&`"
        case .or: "`||`"
        case .plus: "`+`"
        case .minus: "`-`"
        case .star: "`*`"
        case .bang: "`!`"
        case .eof: "end of input"
        }
    }
}

/// A `//` comment, kept so the formatter can carry it over.
struct Comment: Sendable {
    /// Byte offset of the `//`.
    var start: Int
    var end: Int
    var line: Int
    /// The comment text including the leading `//`, without the line break.
    var text: String
    /// Whether only whitespace precedes the comment on its line.
    var ownLine: Bool
    /// Whether an empty line separates the comment from the text before it.
    var blankLineBefore: Bool
}
