/// A parsed expression with the height of its tree (bounded by ``CedarParser/maxExpressionDepth``).
struct ParsedExpr {
    var expr: Expr
    var height: Int
    /// Set when this is a bare integer literal token, holding its unsigned value; its `expr` is
    /// only meaningful when the value fits in `Int64` (`9223372036854775808` needs a minus).
    var bareInteger: UInt64? = nil
}

/// The expression grammar, parsed without recursion.
///
/// Cedar's grammar (`Expr := 'if' Expr 'then' Expr 'else' Expr | Or`, then `Or`, `And`,
/// `Relation`, `Add`, `Mult`, `Unary`, `Member`, `Primary`) is parsed with an explicit stack of
/// frames and operator-precedence reduction for the binary levels, so nesting depth costs heap,
/// not call stack: debug builds on 512 KiB threads cannot overflow however deep the input.
extension PolicyParser {
    /// Work the parser has suspended while it parses a nested expression or operand.
    private enum Frame {
        case ifCondition(SourceLocation)
        case ifThen(SourceLocation, ParsedExpr)
        case ifElse(SourceLocation, ParsedExpr, ParsedExpr)
        /// The binary levels (`||` … `*`) of one expression.
        case binary(BinaryState)
        /// One operand: its `!`/`-` prefix and the member expression built so far.
        case operand(OperandState)
        case paren
        case set(SourceLocation, [ParsedExpr])
        case record(RecordState)
        case call(ExtensionFunction, SourceLocation, [ParsedExpr])
        case method(receiver: ParsedExpr, name: String, token: Token, [ParsedExpr])
    }

    private enum Step {
        case startExpression
        case startOperand
        case startPrimary
        case primaryDone(ParsedExpr)
        case accesses
        case operandDone(ParsedExpr)
        case operators
        case expressionDone(ParsedExpr)
    }

    private enum PendingOperator {
        case or, and
        case binary(BinaryOp)
        case isIn(EntityType)

        /// 1 `||`, 2 `&&`, 3 relations, 4 `+ -`, 5 `*`.
        var precedence: Int {
            switch self {
            case .or: 1
            case .and: 2
            case .isIn: 3
            case .binary(let op):
                switch op {
                case .add, .sub: 4
                case .mul: 5
                default: 3
                }
            }
        }
    }

    /// Whether the current `&&`/`||` operand already has its relation.
    private enum RelationState {
        case none
        /// A relational operator (or `is … in`) whose right side is still an `Add`.
        case open
        /// A `has`, `like` or `is` without `in`: nothing but `&&`, `||` or the end may follow.
        case closed
    }

    private struct BinaryState {
        var operands: [ParsedExpr] = []
        var operators: [PendingOperator] = []
        var relation: RelationState = .none
    }

    private struct OperandState {
        var prefix: Token.Kind?
        var count: Int
        var location: SourceLocation
        var value: ParsedExpr?
    }

    private struct RecordState {
        var location: SourceLocation
        var entries: [RecordEntry] = []
        var values: [ParsedExpr] = []
        var keys: Set<String> = []
        var key: String
        var keyToken: Token
    }

    /// Builds a node one level above its children, enforcing the depth limit. (Fixed-arity
    /// overloads avoid allocating an array per node.)
    func node(_ kind: Expr.Kind, at location: SourceLocation, _ a: ParsedExpr) throws(CedarError) -> ParsedExpr {
        try self.node(kind, at: location, height: a.height)
    }

    func node(_ kind: Expr.Kind, at location: SourceLocation, _ a: ParsedExpr, _ b: ParsedExpr) throws(CedarError) -> ParsedExpr {
        try self.node(kind, at: location, height: max(a.height, b.height))
    }

    func node(
        _ kind: Expr.Kind, at location: SourceLocation, _ a: ParsedExpr, _ b: ParsedExpr, _ c: ParsedExpr
    ) throws(CedarError) -> ParsedExpr {
        try self.node(kind, at: location, height: max(a.height, b.height, c.height))
    }

    /// A node whose tallest child has `height`.
    private func node(_ kind: Expr.Kind, at location: SourceLocation, height: Int) throws(CedarError) -> ParsedExpr {
        guard height < CedarParser.maxExpressionDepth else { throw self.tooDeep(at: location) }
        return ParsedExpr(expr: Expr(kind, at: location), height: height + 1)
    }

    func node(_ kind: Expr.Kind, at location: SourceLocation, children: [ParsedExpr]) throws(CedarError) -> ParsedExpr {
        var height = 0
        for child in children where child.height > height { height = child.height }
        return try self.node(kind, at: location, height: height)
    }

    private func tooDeep(at location: SourceLocation) -> CedarError {
        CedarError(.limitExceeded, "expression is nested more than \(CedarParser.maxExpressionDepth) levels deep", at: location)
    }

    /// Parses one expression (`Expr` in Cedar's grammar) starting at the current token.
    mutating func parseExpr() throws(CedarError) -> ParsedExpr {
        var stack: [Frame] = []
        var step = Step.startExpression
        var depth = 0
        while true {
            switch step {
            case .startExpression:
                depth += 1
                guard depth <= CedarParser.maxExpressionDepth else { throw self.tooDeep(at: self.current.location) }
                if self.isWord("if") {
                    stack.append(.ifCondition(self.current.location))
                    self.advance()
                } else {
                    stack.append(.binary(BinaryState()))
                    step = .startOperand
                }

            case .startOperand:
                let first = self.current
                var state = OperandState(prefix: nil, count: 0, location: first.location, value: nil)
                if first.kind == .bang || first.kind == .minus {
                    state.prefix = first.kind
                    while self.current.kind == first.kind {
                        state.count += 1
                        self.advance()
                    }
                    if state.count > 4 {
                        throw self.error("too many occurrences of \(first.kind.displayName) (at most 4 in a row)", at: first)
                    }
                }
                stack.append(.operand(state))
                step = .startPrimary

            case .startPrimary:
                step = try self.startPrimary(&stack)

            case .primaryDone(let value):
                guard case .operand(var state) = stack.popLast() else { preconditionFailure("primary outside an operand") }
                state.value = value
                stack.append(.operand(state))
                step = .accesses

            case .accesses:
                guard case .operand(var state) = stack.popLast(), var value = state.value else {
                    preconditionFailure("member access outside an operand")
                }
                if let next = try self.memberAccesses(&value) {
                    // A method call with arguments: parse them, then come back here.
                    state.value = nil
                    stack.append(.operand(state))
                    stack.append(.method(receiver: value, name: next.name, token: next.token, []))
                    step = .startExpression
                } else {
                    step = .operandDone(try self.applyPrefix(state, to: value))
                }

            case .operandDone(let value):
                guard case .binary(var state) = stack.popLast() else { preconditionFailure("operand outside an expression") }
                state.operands.append(value)
                stack.append(.binary(state))
                step = .operators

            case .operators:
                guard case .binary(var state) = stack.popLast() else { preconditionFailure("operators outside an expression") }
                if try self.binaryOperator(&state) {
                    stack.append(.binary(state))
                    step = .startOperand
                } else if state.operands.count == 1 && state.operators.isEmpty {
                    step = .expressionDone(state.operands[0])
                } else {
                    try self.reduce(&state, above: 1)
                    step = .expressionDone(state.operands[0])
                }

            case .expressionDone(let value):
                depth -= 1
                guard let frame = stack.popLast() else { return value }
                step = try self.resume(frame, with: value, &stack)
            }
        }
    }

    /// Hands a finished sub-expression to the frame that was waiting for it.
    private mutating func resume(_ frame: Frame, with value: ParsedExpr, _ stack: inout [Frame]) throws(CedarError) -> Step {
        switch frame {
        case .ifCondition(let location):
            try self.expectWord("then")
            stack.append(.ifThen(location, value))
            return .startExpression
        case .ifThen(let location, let condition):
            try self.expectWord("else")
            stack.append(.ifElse(location, condition, value))
            return .startExpression
        case .ifElse(let location, let condition, let then):
            return .expressionDone(
                try self.node(.ifThenElse(condition.expr, then.expr, value.expr), at: location, condition, then, value))
        case .paren:
            try self.expect(.rparen, "`)` to close `(`")
            return .primaryDone(ParsedExpr(expr: value.expr, height: value.height))
        case .set(let location, var items):
            items.append(value)
            guard try self.listContinues(closing: .rbracket) else {
                return .primaryDone(try self.node(.set(items.map(\.expr)), at: location, children: items))
            }
            stack.append(.set(location, items))
            return .startExpression
        case .record(var state):
            guard state.keys.insert(state.key).inserted else {
                throw self.error("duplicate key `\(state.key)` in record literal", at: state.keyToken)
            }
            state.entries.append(RecordEntry(key: state.key, value: value.expr))
            state.values.append(value)
            if self.current.kind == .comma {
                self.advance()
            } else if self.current.kind != .rbrace {
                throw self.unexpected("`,` or `}` in record literal")
            }
            if self.current.kind == .rbrace {
                self.advance()
                return .primaryDone(try self.node(.record(state.entries), at: state.location, children: state.values))
            }
            (state.key, state.keyToken) = try self.recordKey()
            stack.append(.record(state))
            return .startExpression
        case .call(let function, let location, var args):
            args.append(value)
            guard try self.listContinues(closing: .rparen) else {
                return .primaryDone(try self.node(.call(function, args.map(\.expr)), at: location, children: args))
            }
            stack.append(.call(function, location, args))
            return .startExpression
        case .method(let receiver, let name, let token, var args):
            args.append(value)
            guard try self.listContinues(closing: .rparen) else {
                let call = try self.methodCall(receiver, name, args, at: token)
                guard case .operand(var state) = stack.popLast() else { preconditionFailure("method outside an operand") }
                state.value = call
                stack.append(.operand(state))
                return .accesses
            }
            stack.append(.method(receiver: receiver, name: name, token: token, args))
            return .startExpression
        case .binary, .operand:
            preconditionFailure("expression finished inside an unfinished operand")
        }
    }

    /// After a list item: consumes `,` and reports whether another item follows; consumes the
    /// closing token (a trailing comma is allowed) when the list ends.
    private mutating func listContinues(closing: Token.Kind) throws(CedarError) -> Bool {
        if self.current.kind == .comma {
            self.advance()
            if self.current.kind == closing {
                self.advance()
                return false
            }
            return true
        }
        guard self.current.kind == closing else { throw self.unexpected("`,` or \(closing.displayName)") }
        self.advance()
        return false
    }

    /// Parses a primary that needs no sub-expression, or pushes the frame that collects one.
    private mutating func startPrimary(_ stack: inout [Frame]) throws(CedarError) -> Step {
        let token = self.current
        let location = token.location
        switch token.kind {
        case .int:
            self.advance()
            return .primaryDone(try self.integerLiteral(token))
        case .string:
            self.advance()
            return .primaryDone(ParsedExpr(expr: Expr(.literal(.string(try self.stringValue(token))), at: location), height: 1))
        case .slot:
            guard self.allowSlotsInExpressions else {
                throw self.error(
                    "found template slot \(self.text(token)) in a condition; slots may only appear in the policy scope", at: token)
            }
            self.advance()
            let slot: SlotID = self.text(token) == "?principal" ? .principal : .resource
            return .primaryDone(ParsedExpr(expr: Expr(.slot(slot), at: location), height: 1))
        case .lparen:
            self.advance()
            stack.append(.paren)
            return .startExpression
        case .lbracket:
            self.advance()
            if self.current.kind == .rbracket {
                self.advance()
                return .primaryDone(ParsedExpr(expr: Expr(.set([]), at: location), height: 1))
            }
            stack.append(.set(location, []))
            return .startExpression
        case .lbrace:
            self.advance()
            if self.current.kind == .rbrace {
                self.advance()
                return .primaryDone(ParsedExpr(expr: Expr(.record([]), at: location), height: 1))
            }
            let (key, keyToken) = try self.recordKey()
            stack.append(.record(RecordState(location: location, key: key, keyToken: keyToken)))
            return .startExpression
        case .ident:
            if self.isWord("true") || self.isWord("false") {
                self.advance()
                return .primaryDone(ParsedExpr(expr: Expr(.literal(.bool(self.isWord(token, "true"))), at: location), height: 1))
            }
            if self.isWord("if") {
                throw self.error("an `if` expression must be in parentheses here", at: token)
            }
            switch try self.parseName() {
            case .value(let value):
                return .primaryDone(value)
            case .call(let function):
                try self.expect(.lparen)
                if self.current.kind == .rparen {
                    self.advance()
                    return .primaryDone(ParsedExpr(expr: Expr(.call(function, []), at: location), height: 1))
                }
                stack.append(.call(function, location, []))
                return .startExpression
            }
        default:
            throw self.unexpected("an expression")
        }
    }

    private func integerLiteral(_ token: Token) throws(CedarError) -> ParsedExpr {
        var value: UInt64 = 0
        for i in token.start..<token.end {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(self.bytes[i] - 0x30))
            guard !o1, !o2 else {
                throw self.error("integer literal `\(self.text(token))` is too large (the maximum is \(Int64.max))", at: token)
            }
            value = sum
        }
        let expr = Expr(.literal(.long(Int64(truncatingIfNeeded: value))), at: token.location)
        return ParsedExpr(expr: expr, height: 1, bareInteger: value)
    }

    /// `.attr`, `["attr"]` and argument-less method calls; returns the method to parse
    /// arguments for when a call has them (the `(` is consumed).
    private mutating func memberAccesses(_ value: inout ParsedExpr) throws(CedarError) -> (name: String, token: Token)? {
        while self.current.kind == .dot || self.current.kind == .lbracket {
            if value.bareInteger != nil {
                value = try self.checkedInteger(value)
                value.bareInteger = nil
            }
            if self.current.kind == .dot {
                self.advance()
                let nameToken = self.current
                let name = try self.expectIdentifier("an attribute or method name after `.`")
                guard self.current.kind == .lparen else {
                    value = try self.node(.getAttr(value.expr, name), at: value.expr.location, value)
                    continue
                }
                self.advance()
                guard self.current.kind == .rparen else { return (name, nameToken) }
                self.advance()
                value = try self.methodCall(value, name, [], at: nameToken)
            } else {
                self.advance()
                let token = self.current
                guard token.kind == .string else { throw self.unexpected("a string literal inside `[ ]`") }
                self.advance()
                let name = try self.stringValue(token)
                try self.expect(.rbracket)
                value = try self.node(.getAttr(value.expr, name), at: value.expr.location, value)
            }
        }
        return nil
    }

    /// Applies an operand's `!`/`-` run; `-N` folds into a negative literal as in Cedar.
    private func applyPrefix(_ state: OperandState, to operand: ParsedExpr) throws(CedarError) -> ParsedExpr {
        guard let prefix = state.prefix else { return try self.checkedInteger(operand) }
        var result = operand
        var count = state.count
        if prefix == .minus, let value = operand.bareInteger {
            guard value <= UInt64(Int64.max) + 1 else { throw self.integerTooLarge(value, at: operand.expr.location) }
            let negated = value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
            result = ParsedExpr(expr: Expr(.literal(.long(negated)), at: state.location), height: 1)
            count -= 1
        } else {
            result = try self.checkedInteger(result)
        }
        for _ in 0..<count {
            let kind: Expr.Kind = prefix == .bang ? .not(result.expr) : .negate(result.expr)
            result = try self.node(kind, at: state.location, result)
        }
        return result
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

    /// Handles what follows an operand. Returns true when a binary operator was consumed and
    /// another operand must be parsed; false at the end of the expression.
    private mutating func binaryOperator(_ state: inout BinaryState) throws(CedarError) -> Bool {
        let token = self.current
        switch token.kind {
        case .or, .and:
            try self.reduce(&state, above: token.kind == .or ? 1 : 2)
            state.operators.append(token.kind == .or ? .or : .and)
            state.relation = .none
            self.advance()
            return true
        case .plus, .minus, .star:
            if case .closed = state.relation { throw self.unexpected("`&&`, `||` or the end of the expression") }
            let op: BinaryOp = token.kind == .plus ? .add : token.kind == .minus ? .sub : .mul
            try self.reduce(&state, above: op == .mul ? 5 : 4)
            state.operators.append(.binary(op))
            self.advance()
            return true
        default:
            break
        }
        if let op = self.relationalOperator(token) {
            switch state.relation {
            case .none: break
            case .open:
                throw self.error(
                    "multiple relational operators (>, ==, in, etc.) must be used with parentheses to make ordering explicit",
                    at: token)
            case .closed: throw self.unexpected("`&&`, `||` or the end of the expression")
            }
            try self.reduce(&state, above: 3)
            state.operators.append(.binary(op))
            state.relation = .open
            self.advance()
            return true
        }
        guard self.isWord("has") || self.isWord("like") || self.isWord("is") else { return false }
        guard case .none = state.relation else {
            throw self.error("unexpected \(self.describe(token)); use parentheses to combine it with another comparison", at: token)
        }
        try self.reduce(&state, above: 4)
        guard let lhs = state.operands.popLast() else { preconditionFailure("operator without operand") }
        let location = lhs.expr.location
        self.advance()
        state.relation = .closed
        if self.isWord(token, "has") {
            state.operands.append(try self.parseHas(lhs))
        } else if self.isWord(token, "like") {
            let patternToken = self.current
            guard patternToken.kind == .string else { throw self.unexpected("a string literal pattern after `like`") }
            self.advance()
            let pattern = try self.patternValue(patternToken)
            state.operands.append(try self.node(.like(lhs.expr, pattern), at: location, lhs))
        } else {
            let type = try self.parseTypeName(after: "`is`")
            if self.isWord("in") {
                // `is T in <Add>`: reduced like a relational operator once its right side is parsed.
                self.advance()
                state.operands.append(lhs)
                state.operators.append(.isIn(type))
                state.relation = .open
                return true
            }
            state.operands.append(try self.node(.isType(lhs.expr, type, in: nil), at: location, lhs))
        }
        return try self.binaryOperator(&state)
    }

    /// Applies pending operators whose precedence is at least `minimum`.
    private func reduce(_ state: inout BinaryState, above minimum: Int) throws(CedarError) {
        while let op = state.operators.last, op.precedence >= minimum {
            state.operators.removeLast()
            guard let rhs = state.operands.popLast(), let lhs = state.operands.popLast() else {
                preconditionFailure("operator without operands")
            }
            let kind: Expr.Kind
            switch op {
            case .or: kind = .or(lhs.expr, rhs.expr)
            case .and: kind = .and(lhs.expr, rhs.expr)
            case .binary(let b): kind = .binary(b, lhs.expr, rhs.expr)
            case .isIn(let type): kind = .isType(lhs.expr, type, in: rhs.expr)
            }
            state.operands.append(try self.node(kind, at: lhs.expr.location, lhs, rhs))
        }
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
        let op: BinaryOp?
        switch name {
        case "contains": op = .contains
        case "containsAll": op = .containsAll
        case "containsAny": op = .containsAny
        case "hasTag": op = .hasTag
        case "getTag": op = .getTag
        default: op = nil
        }
        if let op {
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

    /// A record key (identifier or string) and its `:`.
    private mutating func recordKey() throws(CedarError) -> (String, Token) {
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
        return (key, keyToken)
    }

    private enum NameResult {
        case value(ParsedExpr)
        case call(ExtensionFunction)
    }

    /// A variable, an entity literal `A::B::"id"`, or the name of a function about to be called.
    private mutating func parseName() throws(CedarError) -> NameResult {
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
                return .value(ParsedExpr(expr: Expr(.literal(.entity(uid)), at: location), height: 1))
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
            return .call(function)
        }
        if segments.count == 1, let variable = Variable(rawValue: name) {
            return .value(ParsedExpr(expr: Expr(.variable(variable), at: location), height: 1))
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
