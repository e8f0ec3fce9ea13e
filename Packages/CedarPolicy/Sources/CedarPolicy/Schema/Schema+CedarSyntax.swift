extension Schema {
    /// Parses and resolves a schema written in Cedar schema syntax (`.cedarschema`).
    public init(parsingCedar text: String) throws(CedarError) {
        var parser = CedarSchemaParser(tokens: try SchemaLexer.tokenize(text))
        let raw = try parser.parseSchema()
        self = try SchemaBuilder.build(raw)
    }
}

/// Recursive-descent parser for Cedar schema syntax, producing a `RawSchema`.
struct CedarSchemaParser {
    static let maxDepth = 128

    private let tokens: [SchemaToken]
    private var position = 0
    private var depth = 0

    init(tokens: [SchemaToken]) { self.tokens = tokens }

    private var current: SchemaToken { self.tokens[self.position] }

    private mutating func next() -> SchemaToken {
        let t = self.tokens[self.position]
        if self.position < self.tokens.count - 1 { self.position += 1 }
        return t
    }

    private func isPunct(_ p: String) -> Bool { self.current.kind == .punct(p) }
    private func isKeyword(_ k: String) -> Bool { self.current.kind == .identifier(k) }

    private mutating func eat(_ p: String) -> Bool {
        if self.isPunct(p) {
            _ = self.next()
            return true
        }
        return false
    }

    private mutating func expect(_ p: String) throws(CedarError) {
        guard self.eat(p) else { throw self.unexpected("`\(p)`") }
    }

    private func unexpected(_ wanted: String) -> CedarError {
        CedarError(.syntax, "expected \(wanted), found \(self.current.describe)", at: self.current.location)
    }

    /// Words that cannot be used as identifiers in names and paths.
    static let reserved: Set<String> = ["true", "false", "if", "then", "else", "in", "is", "like", "has"]

    private mutating func identifier(allowReserved: Bool = true, allowCedarNamespace: Bool = false) throws(CedarError) -> String {
        guard let id = self.current.identifier else { throw self.unexpected("an identifier") }
        if !allowReserved, Self.reserved.contains(id) {
            throw CedarError(.syntax, "`\(id)` is a reserved identifier", at: self.current.location)
        }
        if !allowReserved, !allowCedarNamespace, id == "__cedar" {
            throw CedarError(.schema, "use of the reserved `__cedar` namespace", at: self.current.location)
        }
        _ = self.next()
        return id
    }

    mutating func parseSchema() throws(CedarError) -> RawSchema {
        var schema = RawSchema()
        var topLevel = RawNamespace(name: "")
        while self.current.kind != .end {
            try self.skipAnnotations()
            if self.isKeyword("namespace") {
                let loc = self.current.location
                _ = self.next()
                let name = try self.path()
                if schema.namespaces.contains(where: { $0.name == name }) {
                    throw CedarError(.schema, "namespace `\(name)` is declared twice", at: loc)
                }
                var ns = RawNamespace(name: name, location: loc)
                try self.expect("{")
                while !self.isPunct("}") {
                    if self.current.kind == .end { throw self.unexpected("`}`") }
                    try self.declaration(into: &ns)
                }
                _ = self.next()
                schema.namespaces.append(ns)
            } else {
                try self.declaration(into: &topLevel)
            }
        }
        if !topLevel.entityTypes.isEmpty || !topLevel.actions.isEmpty || !topLevel.commonTypes.isEmpty {
            schema.namespaces.insert(topLevel, at: 0)
        }
        return schema
    }

    /// `@key` or `@key("value")`, any number, each key at most once.
    private mutating func skipAnnotations() throws(CedarError) {
        var keys: Set<String> = []
        while self.eat("@") {
            let loc = self.current.location
            let key = try self.identifier()
            guard keys.insert(key).inserted else {
                throw CedarError(.schema, "duplicate annotation `@\(key)`", at: loc)
            }
            if self.eat("(") {
                guard case .string = self.current.kind else { throw self.unexpected("a string") }
                _ = self.next()
                try self.expect(")")
            }
        }
    }

    private mutating func path() throws(CedarError) -> String {
        var name = try self.identifier(allowReserved: false, allowCedarNamespace: true)
        while self.isPunct("::"), case .identifier = self.tokens[self.position + 1].kind {
            _ = self.next()
            name += "::" + (try self.identifier(allowReserved: false))
        }
        return name
    }

    private mutating func declaration(into ns: inout RawNamespace) throws(CedarError) {
        try self.skipAnnotations()
        let loc = self.current.location
        guard let keyword = self.current.identifier else { throw self.unexpected("`entity`, `action` or `type`") }
        switch keyword {
        case "entity":
            _ = self.next()
            try self.entity(into: &ns, at: loc)
        case "action":
            _ = self.next()
            try self.action(into: &ns, at: loc)
        case "type":
            _ = self.next()
            let nameLoc = self.current.location
            let name = try self.identifier(allowReserved: false)
            if Self.builtinTypeNames.contains(name) {
                throw CedarError(.schema, "`\(name)` cannot be used as a common type name", at: nameLoc)
            }
            try self.expect("=")
            let t = try self.type()
            try self.expect(";")
            ns.commonTypes.append((name, t, nameLoc))
        default:
            throw self.unexpected("`entity`, `action` or `type`")
        }
    }

    static let builtinTypeNames: Set<String> = ["Bool", "Boolean", "Long", "String", "Set", "Record", "Entity", "Extension"]

    private mutating func entity(into ns: inout RawNamespace, at loc: SourceLocation) throws(CedarError) {
        var names: [(String, SourceLocation)] = []
        repeat {
            let l = self.current.location
            names.append((try self.identifier(allowReserved: false), l))
        } while self.eat(",")
        if self.isKeyword("enum") {
            _ = self.next()
            try self.expect("[")
            var values: [String] = []
            repeat {
                guard case .string(let s) = self.current.kind else { throw self.unexpected("a string") }
                _ = self.next()
                values.append(s)
            } while self.eat(",")
            try self.expect("]")
            try self.expect(";")
            for (n, l) in names {
                ns.entityTypes.append(RawEntityType(name: n, memberOf: [], shape: nil, tags: nil, enumValues: values, location: l))
            }
            return
        }
        var parents: [(name: String, location: SourceLocation?)] = []
        if self.isKeyword("in") {
            _ = self.next()
            parents = try self.entityTypeList()
        }
        var shape: RawType?
        if self.eat("=") {
            guard self.isPunct("{") else { throw self.unexpected("`{`") }
        }
        if self.isPunct("{") {
            shape = try self.recordType()
        }
        var tags: RawType?
        if self.isKeyword("tags") {
            _ = self.next()
            tags = try self.type()
        }
        try self.expect(";")
        for (n, l) in names {
            ns.entityTypes.append(RawEntityType(name: n, memberOf: parents, shape: shape, tags: tags, enumValues: nil, location: l))
        }
    }

    /// `Path` or `[Path, …]`.
    private mutating func entityTypeList() throws(CedarError) -> [(name: String, location: SourceLocation?)] {
        var out: [(name: String, location: SourceLocation?)] = []
        if self.eat("[") {
            if self.eat("]") { return out }
            repeat {
                let l = self.current.location
                out.append((try self.path(), l))
            } while self.eat(",")
            try self.expect("]")
        } else {
            let l = self.current.location
            out.append((try self.path(), l))
        }
        return out
    }

    /// An action name: identifier or string.
    private mutating func name() throws(CedarError) -> String {
        switch self.current.kind {
        case .string(let s):
            _ = self.next()
            return s
        case .identifier:
            return try self.identifier(allowReserved: false, allowCedarNamespace: true)
        default:
            throw self.unexpected("a name")
        }
    }

    /// `Path::"id"`, `"id"` or `id`.
    private mutating func actionRef() throws(CedarError) -> RawActionRef {
        let loc = self.current.location
        if case .string(let s) = self.current.kind {
            _ = self.next()
            return RawActionRef(type: nil, id: s, location: loc)
        }
        var segments = [try self.identifier(allowReserved: false)]
        while self.eat("::") {
            if case .string(let s) = self.current.kind {
                _ = self.next()
                return RawActionRef(type: segments.joined(separator: "::"), id: s, location: loc)
            }
            segments.append(try self.identifier(allowReserved: false))
        }
        guard segments.count == 1 else { throw self.unexpected("`::` and a string") }
        return RawActionRef(type: nil, id: segments[0], location: loc)
    }

    private mutating func action(into ns: inout RawNamespace, at loc: SourceLocation) throws(CedarError) {
        var names: [(String, SourceLocation)] = []
        repeat {
            let l = self.current.location
            names.append((try self.name(), l))
        } while self.eat(",")
        var parents: [RawActionRef] = []
        if self.isKeyword("in") {
            _ = self.next()
            if self.eat("[") {
                repeat { parents.append(try self.actionRef()) } while self.eat(",")
                try self.expect("]")
            } else {
                parents.append(try self.actionRef())
            }
        }
        var applies: RawAppliesTo?
        if self.isKeyword("appliesTo") {
            let appliesLoc = self.current.location
            _ = self.next()
            try self.expect("{")
            var principals: [(name: String, location: SourceLocation?)]?
            var resources: [(name: String, location: SourceLocation?)]?
            var context: RawType?
            while !self.isPunct("}") {
                let l = self.current.location
                guard let key = self.current.identifier, ["principal", "resource", "context"].contains(key) else {
                    throw self.unexpected("`principal`, `resource` or `context`")
                }
                _ = self.next()
                try self.expect(":")
                switch key {
                case "principal":
                    if principals != nil { throw CedarError(.schema, "duplicate `principal` declaration", at: l) }
                    principals = try self.entityTypeList()
                case "resource":
                    if resources != nil { throw CedarError(.schema, "duplicate `resource` declaration", at: l) }
                    resources = try self.entityTypeList()
                default:
                    if context != nil { throw CedarError(.schema, "duplicate `context` declaration", at: l) }
                    if self.isPunct("{") {
                        context = try self.recordType()
                    } else {
                        let cl = self.current.location
                        context = .reference(try self.path(), .common, cl)
                    }
                }
                if !self.eat(",") { break }
            }
            try self.expect("}")
            guard let principals, !principals.isEmpty else {
                throw CedarError(.schema, "`appliesTo` must declare at least one principal type", at: appliesLoc)
            }
            guard let resources, !resources.isEmpty else {
                throw CedarError(.schema, "`appliesTo` must declare at least one resource type", at: appliesLoc)
            }
            applies = RawAppliesTo(principals: principals, resources: resources, context: context)
        }
        if self.isKeyword("attributes") {
            // Only the empty form is accepted (action attributes are no longer supported).
            _ = self.next()
            try self.expect("{")
            try self.expect("}")
        }
        try self.expect(";")
        for (n, l) in names {
            ns.actions.append(RawAction(name: n, memberOf: parents, appliesTo: applies, location: l))
        }
    }

    private mutating func type() throws(CedarError) -> RawType {
        self.depth += 1
        defer { self.depth -= 1 }
        if self.depth > Self.maxDepth {
            throw CedarError(.limitExceeded, "schema types are nested too deeply", at: self.current.location)
        }
        if self.isPunct("{") { return try self.recordType() }
        let loc = self.current.location
        if self.isKeyword("Set"), self.tokens[self.position + 1].kind == .punct("<") {
            _ = self.next()
            _ = self.next()
            let element = try self.type()
            try self.expect(">")
            return .set(element)
        }
        return .reference(try self.path(), .commonOrEntity, loc)
    }

    private mutating func recordType() throws(CedarError) -> RawType {
        try self.expect("{")
        var attrs: [RawAttribute] = []
        var seen: Set<String> = []
        while !self.isPunct("}") {
            try self.skipAnnotations()
            let loc = self.current.location
            let name: String
            switch self.current.kind {
            case .string(let s):
                _ = self.next()
                name = s
            case .identifier:
                name = try self.identifier(allowReserved: false, allowCedarNamespace: true)
            default:
                throw self.unexpected("an attribute name")
            }
            guard seen.insert(name).inserted else {
                throw CedarError(.schema, "duplicate attribute `\(name)`", at: loc)
            }
            let optional = self.eat("?")
            try self.expect(":")
            let t = try self.type()
            attrs.append(RawAttribute(name: name, type: t, isRequired: !optional, location: loc))
            if !self.eat(",") { break }
        }
        try self.expect("}")
        return .record(attrs)
    }
}
