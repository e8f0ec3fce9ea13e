/// A parsed expression with the height of its tree (bounded by ``CedarParser/maxExpressionDepth``).
struct ParsedExpr {
    var expr: Expr
    var height: Int
    /// Set when this is a bare integer literal token, holding its unsigned value; its `expr` is
    /// only meaningful when the value fits in `Int64` (`9223372036854775808` needs a minus).
    var bareInteger: UInt64? = nil
}

extension PolicyParser {
    /// Builds a node one level above `children`, enforcing the depth limit.
    func node(_ kind: Expr.Kind, at location: SourceLocation, _ children: ParsedExpr...) throws(CedarError) -> ParsedExpr {
        try self.node(kind, at: location, children: children)
    }

    func node(_ kind: Expr.Kind, at location: SourceLocation, children: [ParsedExpr]) throws(CedarError) -> ParsedExpr {
        var height = 0
        for child in children where child.height > height { height = child.height }
        height += 1
        guard height <= CedarParser.maxExpressionDepth else {
            throw CedarError(
                .limitExceeded, "expression is nested more than \(CedarParser.maxExpressionDepth) levels deep", at: location)
        }
        return ParsedExpr(expr: Expr(kind, at: location), height: height)
    }

    /// `Expr := 'if' Expr 'then' Expr 'else' Expr | Or`
    mutating func parseExpr() throws(CedarError) -> ParsedExpr {
        self.nesting += 1
        defer { self.nesting -= 1 }
        guard self.nesting <= CedarParser.maxExpressionDepth else {
            throw CedarError(
                .limitExceeded, "expression is nested more than \(CedarParser.maxExpressionDepth) levels deep",
                at: self.current.location)
        }
        if self.isWord("if") {
            let location = self.current.location
            self.advance()
            let cond = try self.parseExpr()
            try self.expectWord("then")
            let then = try self.parseExpr()
            try self.expectWord("else")
            let otherwise = try self.parseExpr()
            return try self.node(.ifThenElse(cond.expr, then.expr, otherwise.expr), at: location, cond, then, otherwise)
        }
        return try self.parseOr()
    }

    private mutating func parseOr() throws(CedarError) -> ParsedExpr {
        var lhs = try self.parseAnd()
        while self.current.kind == .or {
            self.advance()
            let rhs = try self.parseAnd()
            lhs = try self.node(.or(lhs.expr, rhs.expr), at: lhs.expr.location, lhs, rhs)
        }
        return lhs
    }

    private mutating func parseAnd() throws(CedarError) -> ParsedExpr {
        var lhs = try self.parseRelation()
        while self.current.kind == .and {
            self.advance()
            let rhs = try self.parseRelation()
            lhs = try self.node(.and(lhs.expr, rhs.expr), at: lhs.expr.location, lhs, rhs)
        }
        return lhs
    }

    private func relationalOperator(_ token: Token) -> BinaryOp? {
        switch token.kind {
        case .eq: .eq
        case .neq: .neq
        case .lt: .lt
        case .le: .le
        case .gt: .gt
        case .ge: .ge
        case .ident where self.isWord(token, "in"): .in
        default: nil
        }
    }

    /// `Relation := Add [RelOp Add | 'has' Attr | 'like' Pattern | 'is' Path ['in' Add]]`
    private mutating func parseRelation() throws(CedarError) -> ParsedExpr {
        let lhs = try self.parseAdd()
        let location = lhs.expr.location
        if self.isWord("has") {
            self.advance()
            return try self.parseHas(lhs)
        }
        if self.isWord("like") {
            self.advance()
            let token = self.current
            guard token.kind == .string else { throw self.unexpected("a string literal pattern after `like`") }
            self.advance()
            let pattern = try self.patternValue(token)
            return try self.node(.like(lhs.expr, pattern), at: location, lhs)
        }
        if self.isWord("is") {
            self.advance()
            let type = try self.parseTypeName(after: "`is`")
            if self.isWord("in") {
                self.advance()
                let rhs = try self.parseAdd()
                return try self.node(.isType(lhs.expr, type, in: rhs.expr), at: location, lhs, rhs)
            }
            return try self.node(.isType(lhs.expr, type, in: nil), at: location, lhs)
        }
        guard let op = self.relationalOperator(self.current) else { return lhs }
        self.advance()
        let rhs = try self.parseAdd()
        if self.relationalOperator(self.current) != nil {
            throw self.error(
                "multiple relational operators (>, ==, in, etc.) must be used with parentheses to make ordering explicit",
                at: self.current)
        }
        return try self.node(.binary(op, lhs.expr, rhs.expr), at: location, lhs, rhs)
    }

    /// `e has a.b.c` becomes `e has a && e.a has b && e.a.b has c`, as in Cedar 4.
    private mutating func parseHas(_ lhs: ParsedExpr) throws(CedarError) -> ParsedExpr {
        let location = lhs.expr.location
        var attrs: [String] = []
        let token = self.current
        if token.kind == .string {
            self.advance()
            attrs.append(try self.stringValue(token))
        } else if token.kind == .ident {
            attrs.append(try self.expectIdentifier("an attribute name"))
            while self.current.kind == .dot, self.peek(1).kind == .ident {
                self.advance()
                attrs.append(try self.expectIdentifier("an attribute name"))
            }
        } else {
            throw self.unexpected("an attribute name or string literal after `has`")
        }
        switch self.current.kind {
        case .dot, .lbracket, .lparen, .doubleColon:
            throw self.error(
                "invalid right-hand side of `has`: expected an attribute name, a dotted attribute path or a string literal",
                at: token)
        default: break
        }
        var result = try self.node(.hasAttr(lhs.expr, attrs[0]), at: location, lhs)
        var base = lhs
        for i in 1..<attrs.count {
            base = try self.node(.getAttr(base.expr, attrs[i - 1]), at: location, base)
            let test = try self.node(.hasAttr(base.expr, attrs[i]), at: location, base)
            result = try self.node(.and(result.expr, test.expr), at: location, result, test)
        }
        return result
    }

    private mutating func parseAdd() throws(CedarError) -> ParsedExpr {
        var lhs = try self.parseMul()
        while self.current.kind == .plus || self.current.kind == .minus {
            let op: BinaryOp = self.current.kind == .plus ? .add : .sub
            self.advance()
            let rhs = try self.parseMul()
            lhs = try self.node(.binary(op, lhs.expr, rhs.expr), at: lhs.expr.location, lhs, rhs)
        }
        return lhs
    }

    private mutating func parseMul() throws(CedarError) -> ParsedExpr {
        var lhs = try self.parseUnary()
        while self.current.kind == .star {
            self.advance()
            let rhs = try self.parseUnary()
            lhs = try self.node(.binary(.mul, lhs.expr, rhs.expr), at: lhs.expr.location, lhs, rhs)
        }
        return lhs
    }

    /// `Unary := ('!'{0,4} | '-'{0,4}) Member`; `-N` is folded into a negative literal.
    private mutating func parseUnary() throws(CedarError) -> ParsedExpr {
        let first = self.current
        guard first.kind == .bang || first.kind == .minus else {
            let member = try self.parseMember()
            return try self.checkedInteger(member)
        }
        var count = 0
        while self.current.kind == first.kind {
            count += 1
            self.advance()
        }
        if count > 4 {
            throw self.error("too many occurrences of \(first.kind.displayName) (at most 4 in a row)", at: first)
        }
        let location = first.location
        var operand = try self.parseMember()
        if first.kind == .bang {
            operand = try self.checkedInteger(operand)
            for _ in 0..<count { operand = try self.node(.not(operand.expr), at: location, operand) }
            return operand
        }
        var negations = count
        if let value = operand.bareInteger {
            guard value <= UInt64(Int64.max) + 1 else { throw self.integerTooLarge(value, at: operand.expr.location) }
            let negated = value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
            operand = ParsedExpr(expr: Expr(.literal(.long(negated)), at: location), height: 1)
            negations -= 1
        }
        for _ in 0..<negations { operand = try self.node(.negate(operand.expr), at: location, operand) }
        return operand
    }

    private func integerTooLarge(_ value: UInt64, at location: SourceLocation) -> CedarError {
        CedarError(.syntax, "integer literal `\(value)` is too large (the maximum is \(Int64.max))", at: location)
    }

    /// Rejects a bare integer literal that does not fit in `Int64` and is not negated.
    private func checkedInteger(_ parsed: ParsedExpr) throws(CedarError) -> ParsedExpr {
        if let value = parsed.bareInteger, value > UInt64(Int64.max) {
            throw self.integerTooLarge(value, at: parsed.expr.location)
        }
        return parsed
    }

    /// `Member := Primary { '.' Ident ['(' Args ')'] | '[' String ']' }`
    private mutating func parseMember() throws(CedarError) -> ParsedExpr {
        var result = try self.parsePrimary()
        while true {
            if self.current.kind == .dot {
                if result.bareInteger != nil { result = try self.checkedInteger(result); result.bareInteger = nil }
                self.advance()
                let nameToken = self.current
                let name = try self.expectIdentifier("an attribute or method name after `.`")
                if self.current.kind == .lparen {
                    let args = try self.parseArguments()
                    result = try self.methodCall(result, name, args, at: nameToken)
                } else {
                    result = try self.node(.getAttr(result.expr, name), at: result.expr.location, result)
                }
            } else if self.current.kind == .lbracket {
                if result.bareInteger != nil { result = try self.checkedInteger(result); result.bareInteger = nil }
                self.advance()
                let token = self.current
                guard token.kind == .string else { throw self.unexpected("a string literal inside `[ ]`") }
                self.advance()
                let name = try self.stringValue(token)
                try self.expect(.rbracket)
                result = try self.node(.getAttr(result.expr, name), at: result.expr.location, result)
            } else {
                return result
            }
        }
    }

    /// `'(' [Expr {',' Expr} [',']] ')'`, starting at the `(`.
    private mutating func parseArguments() throws(CedarError) -> [ParsedExpr] {
        try self.expect(.lparen)
        return try self.parseList(closing: .rparen)
    }

    /// Comma-separated expressions up to `closing` (consumed); a trailing comma is allowed.
    private mutating func parseList(closing: Token.Kind) throws(CedarError) -> [ParsedExpr] {
        var items: [ParsedExpr] = []
        while self.current.kind != closing {
            items.append(try self.parseExpr())
            if self.current.kind == .comma {
                self.advance()
            } else if self.current.kind != closing {
                throw self.unexpected("`,` or \(closing.displayName)")
            }
        }
        self.advance()
        return items
    }

    private func methodCall(
        _ receiver: ParsedExpr, _ name: String, _ args: [ParsedExpr], at token: Token
    ) throws(CedarError) -> ParsedExpr {
        let location = receiver.expr.location
        func requireArgs(_ n: Int) throws(CedarError) {
            guard args.count == n else {
                let want = n == 1 ? "1 argument" : "\(n) arguments"
                let got = args.count == 1 ? "1 argument" : "\(args.count) arguments"
                throw self.error("call to `\(name)` requires exactly \(want), but got \(got)", at: token)
            }
        }
        let binaryOps: [String: BinaryOp] = [
            "contains": .contains, "containsAll": .containsAll, "containsAny": .containsAny,
            "hasTag": .hasTag, "getTag": .getTag,
        ]
        if let op = binaryOps[name] {
            try requireArgs(1)
            return try self.node(.binary(op, receiver.expr, args[0].expr), at: location, receiver, args[0])
        }
        if name == "isEmpty" {
            try requireArgs(0)
            return try self.node(.isEmpty(receiver.expr), at: location, receiver)
        }
        guard let function = ExtensionFunction(rawValue: name) else {
            throw self.error("`\(name)` is not a valid method", at: token)
        }
        guard function.isMethod else {
            throw self.error("`\(name)` is a function, not a method; call it as `\(name)(...)`", at: token)
        }
        // Like Cedar, the number of extension arguments is checked when the call is evaluated.
        return try self.node(.call(function, [receiver.expr] + args.map(\.expr)), at: location, children: [receiver] + args)
    }

    private mutating func parsePrimary() throws(CedarError) -> ParsedExpr {
        let token = self.current
        let location = token.location
        switch token.kind {
        case .int:
            self.advance()
            var value: UInt64 = 0
            for i in token.start..<token.end {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(UInt64(self.bytes[i] - 0x30))
                guard !o1, !o2 else {
                    throw self.error("integer literal `\(self.text(token))` is too large (the maximum is \(Int64.max))", at: token)
                }
                value = sum
            }
            return ParsedExpr(expr: Expr(.literal(.long(Int64(truncatingIfNeeded: value))), at: location), height: 1, bareInteger: value)
        case .string:
            self.advance()
            return ParsedExpr(expr: Expr(.literal(.string(try self.stringValue(token))), at: location), height: 1)
        case .slot:
            guard self.allowSlotsInExpressions else {
                throw self.error(
                    "found template slot \(self.text(token)) in a condition; slots may only appear in the policy scope", at: token)
            }
            self.advance()
            let slot: SlotID = self.text(token) == "?principal" ? .principal : .resource
            return ParsedExpr(expr: Expr(.slot(slot), at: location), height: 1)
        case .lparen:
            self.advance()
            let inner = try self.parseExpr()
            try self.expect(.rparen, "`)` to close `(`")
            return ParsedExpr(expr: inner.expr, height: inner.height)
        case .lbracket:
            self.advance()
            self.nesting += 1
            defer { self.nesting -= 1 }
            let items = try self.parseList(closing: .rbracket)
            return try self.node(.set(items.map(\.expr)), at: location, children: items)
        case .lbrace:
            self.advance()
            return try self.parseRecord(at: location)
        case .ident:
            if self.isWord("true") || self.isWord("false") {
                self.advance()
                return ParsedExpr(expr: Expr(.literal(.bool(self.isWord(token, "true"))), at: location), height: 1)
            }
            if self.isWord("if") {
                throw self.error("an `if` expression must be in parentheses here", at: token)
            }
            return try self.parseNameExpression()
        default:
            throw self.unexpected("an expression")
        }
    }

    private mutating func parseRecord(at location: SourceLocation) throws(CedarError) -> ParsedExpr {
        var entries: [RecordEntry] = []
        var children: [ParsedExpr] = []
        var keys: Set<String> = []
        while self.current.kind != .rbrace {
            let keyToken = self.current
            let key: String
            if keyToken.kind == .string {
                self.advance()
                key = try self.stringValue(keyToken)
            } else if keyToken.kind == .ident {
                key = try self.expectIdentifier("a record key")
            } else {
                throw self.unexpected("a record key (identifier or string literal)")
            }
            try self.expect(.colon, "`:` after record key")
            let value = try self.parseExpr()
            guard keys.insert(key).inserted else {
                throw self.error("duplicate key `\(key)` in record literal", at: keyToken)
            }
            entries.append(RecordEntry(key: key, value: value.expr))
            children.append(value)
            if self.current.kind == .comma {
                self.advance()
            } else if self.current.kind != .rbrace {
                throw self.unexpected("`,` or `}` in record literal")
            }
        }
        self.advance()
        return try self.node(.record(entries), at: location, children: children)
    }

    /// A variable, an entity literal `A::B::"id"`, or a function call `ip("...")`.
    private mutating func parseNameExpression() throws(CedarError) -> ParsedExpr {
        let first = self.current
        let location = first.location
        var segments = [try self.expectIdentifier("an expression")]
        while self.current.kind == .doubleColon {
            self.advance()
            if self.current.kind == .string {
                let idToken = self.current
                self.advance()
                let type = try self.entityType(segments, at: first)
                let uid = EntityUID(type: type, id: try self.stringValue(idToken))
                return ParsedExpr(expr: Expr(.literal(.entity(uid)), at: location), height: 1)
            }
            segments.append(try self.expectIdentifier("an identifier or entity id string after `::`"))
        }
        let name = segments.joined(separator: "::")
        if self.current.kind == .lparen {
            _ = try self.entityType(segments, at: first)
            guard segments.count == 1, let function = ExtensionFunction(rawValue: name) else {
                throw self.error("`\(name)` is not a valid function", at: first)
            }
            guard !function.isMethod else {
                throw self.error("`\(name)` is a method, not a function; call it as `x.\(name)(...)`", at: first)
            }
            let args = try self.parseArguments()
            return try self.node(.call(function, args.map(\.expr)), at: location, children: args)
        }
        if segments.count == 1, let variable = Variable(rawValue: name) {
            return ParsedExpr(expr: Expr(.variable(variable), at: location), height: 1)
        }
        if segments.count == 1 {
            throw self.error(
                "invalid variable: `\(name)`; expected `principal`, `action`, `resource` or `context`", at: first)
        }
        throw self.error("`\(name)` is a type name, not an expression; an entity is written `\(name)::\"id\"`", at: first)
    }

    /// Checks a name path for the reserved `__cedar` segment and makes the type.
    func entityType(_ segments: [String], at token: Token) throws(CedarError) -> EntityType {
        let name = segments.joined(separator: "::")
        if segments.contains("__cedar") {
            throw self.error("the name `\(name)` contains `__cedar`, which is reserved", at: token)
        }
        return EntityType(unchecked: name)
    }

    /// `Path := Ident {'::' Ident}` naming an entity type (after `is`).
    mutating func parseTypeName(after what: String) throws(CedarError) -> EntityType {
        let first = self.current
        var segments = [try self.expectIdentifier("an entity type name after \(what)")]
        while self.current.kind == .doubleColon {
            self.advance()
            if self.current.kind == .string {
                throw self.error(
                    "right-hand side of \(what) must be an entity type name, not an entity", at: first)
            }
            segments.append(try self.expectIdentifier("an identifier after `::`"))
        }
        return try self.entityType(segments, at: first)
    }
}
