extension PolicyParser {
    /// Parses policies up to the end of input, naming them `policy0…N` by position.
    mutating func parsePolicies() throws(CedarError) -> [Policy] {
        var policies: [Policy] = []
        while self.current.kind != .eof {
            policies.append(try self.parsePolicy(id: "policy\(policies.count)"))
        }
        return policies
    }

    /// `Policy := {Annotation} Effect '(' Scope ')' {Condition} ';'`
    mutating func parsePolicy(id: String) throws(CedarError) -> Policy {
        let start = self.current
        var bareAnnotations: Set<String> = []
        let annotations = try self.parseAnnotations(bare: &bareAnnotations)
        let effect: Effect
        if self.isWord("permit") {
            effect = .permit
        } else if self.isWord("forbid") {
            effect = .forbid
        } else {
            throw self.unexpected(annotations.isEmpty ? "`permit` or `forbid` to start a policy" : "`@` or `permit` or `forbid`")
        }
        self.advance()
        try self.expect(.lparen, "`(` after `\(effect.rawValue)`")
        let principal = try self.parseScopeVariable(.principal)
        try self.expectScopeComma(next: "action")
        let action = try self.parseActionScope()
        try self.expectScopeComma(next: "resource")
        let resource = try self.parseScopeVariable(.resource)
        if self.current.kind == .comma { self.advance() }
        let scopeEnd = self.current.start
        guard self.current.kind == .rparen else { throw self.unexpected("`)` to close the policy scope") }
        self.advance()
        var conditions: [Condition] = []
        var clauses: [(start: Int, end: Int)] = []
        while self.current.kind == .ident {
            let token = self.current
            let kind: Condition.Kind
            if self.isWord("when") {
                kind = .when
            } else if self.isWord("unless") {
                kind = .unless
            } else if self.isWord("permit") || self.isWord("forbid") {
                throw self.error("expected `;` to end the previous policy, found \(self.describe(token))", at: token)
            } else {
                throw self.error("invalid policy condition \(self.describe(token)): expected `when` or `unless`", at: token)
            }
            self.advance()
            try self.expect(.lbrace, "`{` after `\(kind.rawValue)`")
            if self.current.kind == .rbrace {
                throw self.error("`\(kind.rawValue)` condition clause cannot be empty", at: self.current)
            }
            let body = try self.parseExpr()
            let close = try self.expect(.rbrace, "`}` to close the `\(kind.rawValue)` clause")
            conditions.append(Condition(kind: kind, body: body.expr))
            clauses.append((token.start, close.end))
        }
        let semicolon = try self.expect(.semicolon, "`;` to end the policy (or `when`/`unless`)")
        self.spans.append(
            PolicySpan(
                start: start.start, startLine: start.line, scopeEnd: scopeEnd, clauses: clauses, end: semicolon.end, bareAnnotations: bareAnnotations)
        )
        return Policy(
            id: id, annotations: annotations, effect: effect, principal: principal, action: action, resource: resource,
            conditions: conditions, location: start.location)
    }

    private mutating func expectScopeComma(next: String) throws(CedarError) {
        guard self.current.kind == .comma else {
            if self.current.kind == .rparen {
                throw self.error("this policy is missing the `\(next)` variable in the scope", at: self.current)
            }
            throw self.unexpected("`,`")
        }
        self.advance()
    }

    /// `{'@' AnyIdent ['(' String ')']}`; keys may be any identifier, duplicates are errors.
    private mutating func parseAnnotations(bare: inout Set<String>) throws(CedarError) -> [Annotation] {
        var annotations: [Annotation] = []
        var keys: Set<String> = []
        while self.current.kind == .at {
            self.advance()
            let keyToken = self.current
            guard keyToken.kind == .ident else { throw self.unexpected("an annotation name after `@`") }
            let key = self.text(keyToken)
            self.advance()
            var value = ""
            if self.current.kind == .lparen {
                self.advance()
                let valueToken = self.current
                guard valueToken.kind == .string else { throw self.unexpected("a string literal as the annotation value") }
                value = try self.stringValue(valueToken)
                self.advance()
                try self.expect(.rparen, "`)` after the annotation value")
            } else {
                bare.insert(key)
            }
            guard keys.insert(key).inserted else {
                throw self.error("duplicate annotation: @\(key)", at: keyToken)
            }
            annotations.append(Annotation(key: key, value: value))
        }
        return annotations
    }

    private enum ScopeVariable: String {
        case principal, resource
        var slot: SlotID { self == .principal ? .principal : .resource }
    }

    /// Expects the variable `name` first in a scope part.
    private mutating func expectScopeVariable(_ name: String) throws(CedarError) {
        let token = self.current
        if token.kind == .ident {
            let text = self.text(token)
            if text == name {
                self.advance()
                return
            }
            if Variable(rawValue: text) != nil {
                throw self.error("found the variable `\(text)` where the variable `\(name)` must be used", at: token)
            }
        }
        if token.kind == .rparen || token.kind == .comma {
            throw self.error("this policy is missing the `\(name)` variable in the scope", at: token)
        }
        throw self.unexpected("`\(name)`")
    }

    /// `principal` or `resource` with `== E`, `in E`, `is T`, `is T in E` (E an entity or its slot).
    private mutating func parseScopeVariable(_ variable: ScopeVariable) throws(CedarError) -> ScopeConstraint {
        try self.expectScopeVariable(variable.rawValue)
        switch self.current.kind {
        case .eq:
            self.advance()
            return .eq(try self.parseScopeEntity(variable))
        case .ident where self.isWord("in"):
            self.advance()
            return .in(try self.parseScopeEntity(variable))
        case .ident where self.isWord("is"):
            self.advance()
            let type = try self.parseTypeName(after: "`is`")
            if self.isWord("in") {
                self.advance()
                return .isIn(type, try self.parseScopeEntity(variable))
            }
            return .is(type)
        case .colon:
            throw self.error("type constraints using `:` are not supported", at: self.current)
        case .comma, .rparen:
            return .any
        default:
            throw self.unexpected("`==`, `in`, `is`, `,` or `)` after `\(variable.rawValue)`")
        }
    }

    /// An entity literal or the matching slot, optionally parenthesised.
    private mutating func parseScopeEntity(_ variable: ScopeVariable) throws(CedarError) -> EntityReference {
        var parens = 0
        while self.current.kind == .lparen {
            parens += 1
            self.advance()
        }
        let token = self.current
        let reference: EntityReference
        if token.kind == .slot {
            let text = self.text(token)
            guard text == variable.slot.rawValue else {
                throw self.error(
                    "expected an entity uid or matching template slot, found \(text) instead of \(variable.slot.rawValue)", at: token)
            }
            self.advance()
            reference = .slot(variable.slot)
        } else if token.kind == .lbracket {
            throw self.error("expected a single entity uid or template slot, found a set of entity uids", at: token)
        } else {
            reference = .uid(try self.parseEntityLiteral())
        }
        for _ in 0..<parens { try self.expect(.rparen) }
        return reference
    }

    /// `action`, `action == A`, `action in A`, `action in [A, …]` (A of an `Action` type).
    private mutating func parseActionScope() throws(CedarError) -> ActionConstraint {
        try self.expectScopeVariable("action")
        switch self.current.kind {
        case .eq:
            self.advance()
            return .eq(try self.parseActionEntity())
        case .ident where self.isWord("in"):
            self.advance()
            var parens = 0
            while self.current.kind == .lparen {
                parens += 1
                self.advance()
            }
            if self.current.kind == .lbracket {
                self.advance()
                var uids: [EntityUID] = []
                while self.current.kind != .rbracket {
                    uids.append(try self.parseActionEntity())
                    if self.current.kind == .comma {
                        self.advance()
                    } else if self.current.kind != .rbracket {
                        throw self.unexpected("`,` or `]`")
                    }
                }
                self.advance()
                for _ in 0..<parens { try self.expect(.rparen) }
                return .inSet(uids)
            }
            return .in(try self.parseActionEntity(openParens: parens))
        case .ident where self.isWord("is"):
            throw self.error("`is` cannot appear in the action scope", at: self.current)
        case .colon:
            throw self.error("type constraints using `:` are not supported", at: self.current)
        case .comma, .rparen:
            return .any
        default:
            throw self.unexpected("`==`, `in`, `,` or `)` after `action`")
        }
    }

    private mutating func parseActionEntity(openParens: Int = 0) throws(CedarError) -> EntityUID {
        var parens = openParens
        while self.current.kind == .lparen {
            parens += 1
            self.advance()
        }
        let token = self.current
        if token.kind == .slot {
            throw self.error("template slots are not allowed in the action scope", at: token)
        }
        let uid = try self.parseEntityLiteral()
        for _ in 0..<parens { try self.expect(.rparen) }
        guard uid.type.isAction else {
            throw self.error("expected an entity uid with type `Action` but got `\(uid)`", at: token)
        }
        return uid
    }

    /// `Path '::' String`
    mutating func parseEntityLiteral() throws(CedarError) -> EntityUID {
        let first = self.current
        var segments = [try self.expectIdentifier("an entity uid like `Type::\"id\"`")]
        while true {
            guard self.current.kind == .doubleColon else {
                throw self.unexpected("`::` and an entity id string after `\(segments.joined(separator: "::"))`")
            }
            self.advance()
            if self.current.kind == .string {
                let idToken = self.current
                self.advance()
                let type = try self.entityType(segments, at: first)
                return EntityUID(type: type, id: try self.stringValue(idToken))
            }
            segments.append(try self.expectIdentifier("an identifier or entity id string after `::`"))
        }
    }
}
