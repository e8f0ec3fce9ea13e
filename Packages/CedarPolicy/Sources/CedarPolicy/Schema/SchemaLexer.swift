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

/// Splits Cedar schema text into tokens with the policy ``Lexer`` (same identifiers, strings and
/// escapes, `::`, punctuation, `@`, white space and `//` comments), in its schema mode.
enum SchemaLexer {
    /// Inputs with more tokens than this are rejected.
    static let maxTokens = 2_000_000

    static func tokenize(_ text: String) throws(CedarError) -> [SchemaToken] {
        let count = text.utf8.count
        guard count <= CedarParser.maxTextBytes else {
            throw CedarError(.limitExceeded, "schema text is \(count) bytes; the limit is \(CedarParser.maxTextBytes) bytes")
        }
        let bytes = Array(text.utf8)
        var lexer = Lexer(bytes: bytes, schemaSyntax: true)
        let tokens = try lexer.tokenize()
        if tokens.count > Self.maxTokens {
            throw CedarError(.limitExceeded, "schema has too many tokens", at: tokens[Self.maxTokens].location)
        }
        var out: [SchemaToken] = []
        out.reserveCapacity(tokens.count)
        for token in tokens {
            let kind: SchemaToken.Kind
            switch token.kind {
            case .ident: kind = .identifier(String(decoding: bytes[token.start..<token.end], as: UTF8.self))
            case .string: kind = .string(try StringLiteral.value(of: token, in: bytes))
            case .eof: kind = .end
            // Everything else is punctuation; tokens schema syntax has no use for (`+`, `==`,
            // numbers, …) never match what the parser expects, so they are reported there.
            default: kind = .punct(String(decoding: bytes[token.start..<token.end], as: UTF8.self))
            }
            out.append(SchemaToken(kind: kind, location: token.location))
        }
        return out
    }
}
