/// Parses Cedar 4.x policy text into the ``Policy``/``Expr`` AST.
///
/// Accepts exactly the text Cedar accepts (checked against the Rust implementation), with source
/// locations on every policy and expression. Malformed text throws ``CedarError`` with code
/// `.syntax`; text over the size or nesting limits throws `.limitExceeded`.
public enum CedarParser {
    /// The largest policy text accepted, in UTF-8 bytes (8 MiB).
    public static let maxTextBytes = 8 << 20
    /// The deepest expression accepted: both the height of the expression tree and the nesting
    /// of brackets, parentheses and `if`s.
    ///
    /// The parser itself does not recurse, but the evaluator, the formatter and `Expr`'s
    /// synthesized equality and hashing walk trees recursively, and tests may run on 512 KiB
    /// threads. Measured there in a debug build, parsing, formatting, comparing and authorizing
    /// work at 64 levels for every expression shape, while authorizing nested records or long
    /// `||` chains overflows at 96. The whole integration corpus stays below 12.
    public static let maxExpressionDepth = 64

    /// Parses a policy set's text. IDs are `policy0`, `policy1`, … by position; policies with
    /// slots in their scope are templates.
    public static func parsePolicies(_ text: String) throws(CedarError) -> [Policy] {
        var parser = try PolicyParser(text: text)
        return try parser.parsePolicies()
    }

    /// Parses a single policy; `id` names it.
    public static func parsePolicy(_ text: String, id: String = "policy0") throws(CedarError) -> Policy {
        var parser = try PolicyParser(text: text)
        let policy = try parser.parsePolicy(id: id)
        try parser.expect(.eof, "end of input after the policy")
        return policy
    }

    /// Parses a standalone expression (template slots allowed).
    public static func parseExpression(_ text: String) throws(CedarError) -> Expr {
        var parser = try PolicyParser(text: text)
        parser.allowSlotsInExpressions = true
        let expr = try parser.parseExpr()
        try parser.expect(.eof, "end of input after the expression")
        return expr.expr
    }

    /// Parses an entity reference `Type::"id"`.
    public static func parseEntityUID(_ text: String) throws(CedarError) -> EntityUID {
        var parser = try PolicyParser(text: text)
        let uid = try parser.parseEntityLiteral()
        try parser.expect(.eof, "end of input after the entity uid")
        return uid
    }

    /// Parses and validates an entity type name such as `A::B`.
    public static func parseEntityType(_ text: String) throws(CedarError) -> EntityType {
        var parser = try PolicyParser(text: text)
        let type = try parser.parseTypeName(after: "an entity type")
        try parser.expect(.eof, "end of input after the entity type name")
        return type
    }

    /// Whether `text` is a Cedar identifier that can name an attribute, record key or name
    /// segment: `[_a-zA-Z][_a-zA-Z0-9]*`, not a reserved word, not `__cedar`.
    public static func isValidIdentifier(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, (first >= 0x61 && first <= 0x7A) || (first >= 0x41 && first <= 0x5A) || first == 0x5F
        else { return false }
        for b in utf8 where !Lexer.isIdentContinue(b) { return false }
        return !PolicyParser.reservedWords.contains(text) && text != "__cedar"
    }
}

extension PolicySet {
    /// Parses policy text into a set: static policies, and templates for policies with slots.
    public init(parsing text: String) throws(CedarError) {
        try self.init(policies: try CedarParser.parsePolicies(text))
    }
}
