/// A `Schema` with what the validator looks up precomputed: descendants in the entity-type and
/// action hierarchies, attribute and context types, and the request environments.
struct ValidatorSchema: Sendable {
    let schema: Schema
    /// For each entity type, the types whose entities may (transitively) be members of it.
    let entityDescendants: [EntityType: Set<EntityType>]
    /// For each action, the actions (transitively) in it.
    let actionDescendants: [EntityUID: Set<EntityUID>]
    let attributes: [EntityType: [String: ValidatorAttribute]]
    let contexts: [EntityUID: ValidatorType]
    let environments: [RequestEnvironment]
    let sortedEntityTypes: [EntityType]

    init(_ schema: Schema) {
        self.schema = schema
        var children: [EntityType: Set<EntityType>] = [:]
        for (name, decl) in schema.entityTypes {
            for parent in decl.memberOfTypes { children[parent, default: []].insert(name) }
        }
        self.entityDescendants = Self.closure(children)
        var actionChildren: [EntityUID: Set<EntityUID>] = [:]
        for (uid, decl) in schema.actions {
            for parent in decl.memberOf { actionChildren[parent, default: []].insert(uid) }
        }
        self.actionDescendants = Self.closure(actionChildren)
        var attributes: [EntityType: [String: ValidatorAttribute]] = [:]
        for (name, decl) in schema.entityTypes { attributes[name] = decl.attributes.validatorAttributes }
        self.attributes = attributes
        var contexts: [EntityUID: ValidatorType] = [:]
        var envs: [RequestEnvironment] = []
        for uid in schema.actions.keys.sorted() {
            guard let applies = schema.actions[uid]?.appliesTo else {
                contexts[uid] = .record([:], open: false)
                continue
            }
            let context = ValidatorType.record(applies.context.validatorAttributes, open: false)
            contexts[uid] = context
            for p in applies.principalTypes {
                for r in applies.resourceTypes {
                    envs.append(RequestEnvironment(principal: p, action: uid, resource: r, context: context))
                }
            }
        }
        self.contexts = contexts
        self.environments = envs
        self.sortedEntityTypes = schema.entityTypes.keys.sorted()
    }

    private static func closure<T: Hashable>(_ children: [T: Set<T>]) -> [T: Set<T>] {
        var out: [T: Set<T>] = [:]
        for start in children.keys {
            var seen: Set<T> = []
            var stack = Array(children[start] ?? [])
            while let next = stack.popLast() {
                guard seen.insert(next).inserted else { continue }
                stack.append(contentsOf: children[next] ?? [])
            }
            out[start] = seen
        }
        return out
    }

    func isKnownEntityType(_ t: EntityType) -> Bool {
        t.isAction || self.schema.entityTypes[t] != nil
    }

    /// The types `T` such that `T::"x" in ety::"y"` may hold: `ety` and its descendants.
    func entityTypesIn(_ ety: EntityType) -> Set<EntityType> {
        var out = self.entityDescendants[ety] ?? []
        out.insert(ety)
        return out
    }

    /// The actions `a` with `a in` some member of `uids`, or nil if one of them is not declared.
    func actionsIn(_ uids: [EntityUID]) -> Set<EntityUID>? {
        var out: Set<EntityUID> = []
        for uid in uids {
            guard self.schema.actions[uid] != nil else { return nil }
            out.insert(uid)
            out.formUnion(self.actionDescendants[uid] ?? [])
        }
        return out
    }

    func tagType(_ t: EntityType) -> ValidatorType? {
        self.schema.entityTypes[t]?.tags.map(ValidatorType.init)
    }
}

/// One combination of principal type, action and resource type the schema allows, plus the
/// types of template slots when checking a template.
struct RequestEnvironment: Sendable {
    var principal: EntityType
    var action: EntityUID
    var resource: EntityType
    var context: ValidatorType
    var principalSlot: EntityType?
    var resourceSlot: EntityType?
}
