/// Resolves a `RawSchema` into a `Schema`: qualifies every name as Cedar 4.x does (common type,
/// then entity type, in the current namespace and then the empty namespace, then the builtins),
/// inlines common types, and checks for duplicates, undeclared names and cycles.
struct SchemaBuilder {
    static let primitiveNames: Set<String> = ["Bool", "Long", "String"]
    static let extensionNames: Set<String> = ["decimal", "ipaddr", "datetime", "duration"]
    /// Bound on the nesting of types (records in sets in records …) after inlining.
    static let maxTypeDepth = 256
    /// Bound on the number of nodes in one type after inlining common types (they can nest
    /// exponentially: `type B = {x: A, y: A}; type C = {x: B, y: B}; …`).
    static let maxTypeSize = 100_000

    private var entityDefs: Set<String> = []
    private var commonDefs: [String: (type: RawType, namespace: String, location: SourceLocation?)] = [:]
    private var actionDefs: Set<EntityUID> = []
    private var resolvedCommon: [String: (type: SchemaType, size: Int, height: Int)] = [:]
    /// The deepest nesting reached in the current resolution.
    private var deepest = 0
    private var resolving: [String] = []

    static func build(_ raw: RawSchema) throws(CedarError) -> Schema {
        var builder = SchemaBuilder()
        return try builder.run(raw)
    }

    static func qualify(_ name: String, _ namespace: String) -> String {
        namespace.isEmpty ? name : namespace + "::" + name
    }

    private mutating func run(_ raw: RawSchema) throws(CedarError) -> Schema {
        // 1. Collect definitions.
        for ns in raw.namespaces {
            if ns.name.hasPrefix("__cedar") {
                throw CedarError(.schema, "`\(ns.name)` is a reserved namespace", at: ns.location)
            }
            for e in ns.entityTypes {
                let name = Self.qualify(e.name, ns.name)
                guard self.entityDefs.insert(name).inserted else {
                    throw CedarError(.schema, "duplicate entity type `\(name)`", at: e.location)
                }
            }
            for c in ns.commonTypes {
                let name = Self.qualify(c.name, ns.name)
                guard self.commonDefs[name] == nil else {
                    throw CedarError(.schema, "duplicate common type `\(name)`", at: c.location)
                }
                self.commonDefs[name] = (c.type, ns.name, c.location)
            }
            for a in ns.actions {
                let uid = EntityUID(type: EntityType(unchecked: Self.qualify("Action", ns.name)), id: a.name)
                guard self.actionDefs.insert(uid).inserted else {
                    throw CedarError(.schema, "duplicate action `\(uid)`", at: a.location)
                }
            }
        }
        try self.checkShadowing(raw)

        // 2. Resolve.
        var schema = Schema()
        for ns in raw.namespaces {
            for e in ns.entityTypes {
                let name = EntityType(unchecked: Self.qualify(e.name, ns.name))
                var parents: Set<EntityType> = []
                for p in e.memberOf {
                    parents.insert(try self.resolveEntity(p.name, in: ns.name, at: p.location))
                }
                var attributes = RecordType()
                if let shape = e.shape {
                    guard case .record(let r) = try self.resolveTop(shape, in: ns.name) else {
                        throw CedarError(.schema, "the shape of entity type `\(name)` must be a record", at: e.location)
                    }
                    attributes = r
                }
                let tags: SchemaType? = try e.tags.map { (t: RawType) throws(CedarError) -> SchemaType in
                    try self.resolveTop(t, in: ns.name)
                }
                if let values = e.enumValues {
                    if values.isEmpty {
                        throw CedarError(.schema, "enumerated entity type `\(name)` needs at least one value", at: e.location)
                    }
                }
                schema.entityTypes[name] = EntityTypeDeclaration(
                    name: name, memberOfTypes: parents, attributes: attributes, tags: tags, enumValues: e.enumValues)
            }
            for a in ns.actions {
                let uid = EntityUID(type: EntityType(unchecked: Self.qualify("Action", ns.name)), id: a.name)
                var parents: Set<EntityUID> = []
                for r in a.memberOf {
                    parents.insert(try self.resolveAction(r, in: ns.name))
                }
                var applies: ActionDeclaration.AppliesTo?
                if let at = a.appliesTo {
                    var principals: [EntityType] = []
                    for p in at.principals {
                        let t = try self.resolveEntity(p.name, in: ns.name, at: p.location)
                        if !principals.contains(t) { principals.append(t) }
                    }
                    var resources: [EntityType] = []
                    for r in at.resources {
                        let t = try self.resolveEntity(r.name, in: ns.name, at: r.location)
                        if !resources.contains(t) { resources.append(t) }
                    }
                    var context = RecordType()
                    if let c = at.context {
                        guard case .record(let r) = try self.resolveTop(c, in: ns.name) else {
                            throw CedarError(.schema, "the context of action `\(uid)` must be a record", at: a.location)
                        }
                        context = r
                    }
                    applies = ActionDeclaration.AppliesTo(principalTypes: principals, resourceTypes: resources, context: context)
                }
                schema.actions[uid] = ActionDeclaration(uid: uid, memberOf: parents, appliesTo: applies)
            }
        }
        // Common types are checked even when unused.
        for name in self.commonDefs.keys.sorted() {
            var size = 0
            _ = try self.resolveCommon(name, at: self.commonDefs[name]?.location, depth: 0, size: &size)
        }
        try Self.checkActionCycles(schema)
        return schema
    }

    /// RFC 70: a declaration in a named namespace may not shadow one in the empty namespace.
    private func checkShadowing(_ raw: RawSchema) throws(CedarError) {
        var topLevel: Set<String> = []
        var topActions: Set<String> = []
        for ns in raw.namespaces where ns.name.isEmpty {
            for e in ns.entityTypes { topLevel.insert(e.name) }
            for c in ns.commonTypes { topLevel.insert(c.name) }
            for a in ns.actions { topActions.insert(a.name) }
        }
        for ns in raw.namespaces where !ns.name.isEmpty {
            for e in ns.entityTypes where topLevel.contains(e.name) {
                throw CedarError(.schema, "definition of `\(Self.qualify(e.name, ns.name))` shadows `\(e.name)`", at: e.location)
            }
            for c in ns.commonTypes where topLevel.contains(c.name) {
                throw CedarError(.schema, "definition of `\(Self.qualify(c.name, ns.name))` shadows `\(c.name)`", at: c.location)
            }
            for a in ns.actions where topActions.contains(a.name) {
                throw CedarError(.schema, "definition of action \(CedarText.quoted(a.name)) in `\(ns.name)` shadows a top-level action",
                                 at: a.location)
            }
        }
    }

    private static func possibilities(_ name: String, _ namespace: String) -> [String] {
        if name.contains("::") || namespace.isEmpty { return [name] }
        return [namespace + "::" + name, name]
    }

    private func resolveEntity(_ name: String, in namespace: String, at location: SourceLocation?) throws(CedarError) -> EntityType {
        for p in Self.possibilities(name, namespace) where self.entityDefs.contains(p) {
            return EntityType(unchecked: p)
        }
        throw CedarError(.schema, "undeclared entity type `\(name)`", at: location)
    }

    private func resolveAction(_ ref: RawActionRef, in namespace: String) throws(CedarError) -> EntityUID {
        for p in Self.possibilities(ref.type ?? "Action", namespace) {
            let uid = EntityUID(type: EntityType(unchecked: p), id: ref.id)
            if self.actionDefs.contains(uid) { return uid }
        }
        let shown = ref.type.map { "\($0)::\(CedarText.quoted(ref.id))" } ?? CedarText.quoted(ref.id)
        throw CedarError(.schema, "undeclared action \(shown)", at: ref.location)
    }

    private mutating func resolveTop(_ raw: RawType, in namespace: String) throws(CedarError) -> SchemaType {
        var size = 0
        return try self.resolve(raw, in: namespace, depth: 0, size: &size)
    }

    private mutating func resolve(_ raw: RawType, in namespace: String, depth: Int, size: inout Int) throws(CedarError) -> SchemaType {
        if depth > Self.maxTypeDepth {
            throw CedarError(.limitExceeded, "schema types are nested too deeply")
        }
        self.deepest = max(self.deepest, depth)
        size += 1
        if size > Self.maxTypeSize {
            throw CedarError(.limitExceeded, "a schema type is too large after inlining common types")
        }
        switch raw {
        case .bool: return .bool
        case .long: return .long
        case .string: return .string
        case .extension(let name):
            guard Self.extensionNames.contains(name) else {
                throw CedarError(.schema, "unknown extension type `\(name)`")
            }
            return .extension(name)
        case .set(let element):
            return .set(try self.resolve(element, in: namespace, depth: depth + 1, size: &size))
        case .record(let attrs):
            var record = RecordType()
            for a in attrs {
                if record.attributes[a.name] != nil {
                    throw CedarError(.schema, "duplicate attribute `\(a.name)`", at: a.location)
                }
                let t = try self.resolve(a.type, in: namespace, depth: depth + 1, size: &size)
                record.attributes[a.name] = AttributeType(type: t, isRequired: a.isRequired)
            }
            return .record(record)
        case .reference(let name, let kind, let location):
            for p in Self.possibilities(name, namespace) {
                if kind != .entity, self.commonDefs[p] != nil {
                    return try self.resolveCommon(p, at: location, depth: depth + 1, size: &size)
                }
                if kind != .common, self.entityDefs.contains(p) {
                    return .entity(EntityType(unchecked: p))
                }
            }
            if kind != .entity, let builtin = self.builtin(name) { return builtin }
            throw CedarError(.schema, "undeclared type `\(name)`", at: location)
        }
    }

    /// `Long`, `decimal`, … (when not redeclared in the empty namespace) and `__cedar::Long`, ….
    private func builtin(_ name: String) -> SchemaType? {
        var base = name
        if name.hasPrefix("__cedar::") {
            base = String(name.dropFirst("__cedar::".count))
        } else if self.entityDefs.contains(name) || self.commonDefs[name] != nil {
            return nil
        }
        switch base {
        case "Bool": return .bool
        case "Long": return .long
        case "String": return .string
        default: return Self.extensionNames.contains(base) ? .extension(base) : nil
        }
    }

    private mutating func resolveCommon(_ name: String, at location: SourceLocation?, depth: Int,
                                        size: inout Int) throws(CedarError) -> SchemaType {
        if let done = self.resolvedCommon[name] {
            if depth + done.height > Self.maxTypeDepth {
                throw CedarError(.limitExceeded, "schema types are nested too deeply")
            }
            self.deepest = max(self.deepest, depth + done.height)
            size += done.size
            if size > Self.maxTypeSize {
                throw CedarError(.limitExceeded, "a schema type is too large after inlining common types")
            }
            return done.type
        }
        guard let def = self.commonDefs[name] else {
            throw CedarError(.schema, "undeclared common type `\(name)`", at: location)
        }
        if self.resolving.contains(name) {
            throw CedarError(.schema, "common type `\(name)` is defined in terms of itself", at: def.location)
        }
        self.resolving.append(name)
        var ownSize = 0
        let saved = self.deepest
        self.deepest = depth
        let t = try self.resolve(def.type, in: def.namespace, depth: depth, size: &ownSize)
        let height = self.deepest - depth
        self.deepest = max(saved, self.deepest)
        self.resolving.removeLast()
        self.resolvedCommon[name] = (t, ownSize, height)
        size += ownSize
        if size > Self.maxTypeSize {
            throw CedarError(.limitExceeded, "a schema type is too large after inlining common types")
        }
        return t
    }

    private static func checkActionCycles(_ schema: Schema) throws(CedarError) {
        // Depth-first search over the memberOf graph with colours.
        var state: [EntityUID: Int] = [:]  // 1 = in progress, 2 = done
        for start in schema.actions.keys.sorted() where state[start] == nil {
            var stack: [(EntityUID, [EntityUID])] = [(start, Array(schema.actions[start]?.memberOf ?? []))]
            state[start] = 1
            while !stack.isEmpty {
                let top = stack.count - 1
                if let next = stack[top].1.popLast() {
                    switch state[next] {
                    case 1: throw CedarError(.schema, "action `\(next)` is a member of itself (cycle in the action hierarchy)")
                    case 2: break
                    default:
                        state[next] = 1
                        stack.append((next, Array(schema.actions[next]?.memberOf ?? [])))
                    }
                } else {
                    state[stack[top].0] = 2
                    stack.removeLast()
                }
            }
        }
    }
}
