extension Entities {
    /// Reads Cedar's entities JSON: an array of `{"uid", "attrs", "parents", "tags"?}` objects.
    ///
    /// `uid` and each parent are `{"type", "id"}` or `{"__entity": {…}}`; `attrs` and `parents` are
    /// required, `tags` optional, other members ignored (as Cedar does). Repeating an identical
    /// entity is allowed; two different entities with one UID are a `.entities` error.
    ///
    /// With a `schema`, attributes and tags are read schema-directed (see
    /// ``Value/init(json:expected:schema:)``) and each entity must conform: its type is declared,
    /// attributes match the declared ones, tags are allowed and typed, parents have types listed in
    /// `memberOfTypes`, enumerated types use declared ids, and action entities equal their schema
    /// declaration (no attributes or tags, and parents equal to the transitive closure of its
    /// declared groups, as Cedar requires). The schema's action entities are then added.
    public init(json: JSONValue, schema: Schema? = nil) throws(CedarError) {
        guard case .array(let items) = json else {
            throw CedarError(.entities, "entities JSON must be an array, found \(json.kindName)")
        }
        var map: [EntityUID: Entity] = [:]
        map.reserveCapacity(items.count)
        for item in items {
            let entity = try Entity(json: item, schema: schema)
            if let existing = map.updateValue(entity, forKey: entity.uid), existing != entity {
                throw CedarError(.entities, "duplicate entity entry `\(entity.uid)`")
            }
        }
        var list = Array(map.values)
        if let schema {
            for action in schema.actionEntities() where map[action.uid] == nil { list.append(action) }
        }
        self = try Entities(list)
    }
}

extension Entity {
    /// Reads one entity object of the entities JSON format (see ``Entities/init(json:schema:)``).
    public init(json: JSONValue, schema: Schema? = nil) throws(CedarError) {
        guard case .object(let o) = json else { throw CedarError(.entities, "an entity must be a JSON object, found \(json.kindName)") }
        guard let uidJSON = o["uid"] else { throw CedarError(.entities, "entity is missing the field `uid`") }
        let uid: EntityUID
        do {
            uid = try EntityUID(json: uidJSON)
        } catch {
            throw error.prefixed("in `uid`: ", code: .entities)
        }
        guard let attrsJSON = o["attrs"] else { throw CedarError(.entities, "entity `\(uid)` is missing the field `attrs`") }
        guard case .object(let attrs) = attrsJSON else { throw CedarError(.entities, "`attrs` of `\(uid)` must be an object") }
        guard let parentsJSON = o["parents"] else { throw CedarError(.entities, "entity `\(uid)` is missing the field `parents`") }
        guard case .array(let parentList) = parentsJSON else { throw CedarError(.entities, "`parents` of `\(uid)` must be an array") }
        var tags = JSONObject()
        if let tagsJSON = o["tags"] {
            guard case .object(let t) = tagsJSON else { throw CedarError(.entities, "`tags` of `\(uid)` must be an object") }
            tags = t
        }
        var parents = Set<EntityUID>()
        for p in parentList {
            do {
                parents.insert(try EntityUID(json: p))
            } catch {
                throw error.prefixed("in parents of `\(uid)`: ", code: .entities)
            }
        }
        if uid.type.isAction, let parent = parents.first(where: { !$0.type.isAction }) {
            throw CedarError(.entities, "action `\(uid)` has a parent `\(parent)` that is not an action")
        }
        if let schema {
            self = try Self.conforming(uid: uid, attrs: attrs, parents: parents, tags: tags, schema: schema)
            return
        }
        var attributes: [String: Value] = [:]
        attributes.reserveCapacity(attrs.count)
        for (key, v) in attrs {
            do {
                attributes[key] = try Value(json: v)
            } catch {
                throw error.prefixed("in attribute `\(key)` on `\(uid)`, ", code: .entities)
            }
        }
        var tagValues: [String: Value] = [:]
        for (key, v) in tags {
            do {
                tagValues[key] = try Value(json: v)
            } catch {
                throw error.prefixed("in tag `\(key)` on `\(uid)`, ", code: .entities)
            }
        }
        self.init(uid: uid, attributes: attributes, parents: parents, tags: tagValues)
    }

    /// Schema-directed reading and conformance checking of one entity.
    private static func conforming(uid: EntityUID, attrs: JSONObject, parents: Set<EntityUID>, tags: JSONObject, schema: Schema)
        throws(CedarError) -> Entity
    {
        if uid.type.isAction {
            guard let decl = schema.actions[uid] else {
                throw CedarError(.entities, "found action entity `\(uid)`, but it was not declared as an action in the schema")
            }
            // Cedar compares the data's parents with the declared groups' transitive closure.
            guard attrs.isEmpty, tags.isEmpty, parents == schema.actionAncestors(of: decl.uid) else {
                throw CedarError(.entities, "definition of action `\(uid)` does not match its schema declaration")
            }
            return Entity(uid: uid, parents: parents)
        }
        guard let decl = schema.entityTypes[uid.type] else {
            throw CedarError(.entities, "entity `\(uid)` has type `\(uid.type)` which is not declared in the schema")
        }
        do {
            try schema.checkEnumerated(uid)
        } catch {
            throw error.prefixed("", code: .entities)
        }
        var attributes: [String: Value] = [:]
        attributes.reserveCapacity(attrs.count)
        for (key, v) in attrs {
            guard let attr = decl.attributes.attributes[key] else {
                throw CedarError(.entities, "attribute `\(key)` on `\(uid)` should not exist according to the schema")
            }
            do {
                attributes[key] = try Value(json: v, expected: attr.type, schema: schema)
            } catch {
                throw error.prefixed("in attribute `\(key)` on `\(uid)`, ", code: .entities)
            }
        }
        for key in decl.attributes.attributes.keys.sorted() where decl.attributes.attributes[key]?.isRequired == true && attributes[key] == nil {
            throw CedarError(.entities, "expected entity `\(uid)` to have attribute `\(key)`, but it does not")
        }
        var tagValues: [String: Value] = [:]
        for (key, v) in tags {
            guard let tagType = decl.tags else {
                throw CedarError(.entities, "found a tag `\(key)` on `\(uid)`, but no tags should exist on `\(uid)` according to the schema")
            }
            do {
                tagValues[key] = try Value(json: v, expected: tagType, schema: schema)
            } catch {
                throw error.prefixed("in tag `\(key)` on `\(uid)`, ", code: .entities)
            }
        }
        for parent in parents.sorted() {
            if parent.type.isAction || !decl.memberOfTypes.contains(parent.type) {
                throw CedarError(.entities, "`\(uid)` is not allowed to have an ancestor of type `\(parent.type)` according to the schema")
            }
            do {
                try schema.checkEnumerated(parent)
            } catch {
                throw error.prefixed("", code: .entities)
            }
        }
        return Entity(uid: uid, attributes: attributes, parents: parents, tags: tagValues)
    }

    /// `{"uid", "attrs", "parents", "tags"?}` with attributes and tags in sorted key order and
    /// parents sorted.
    public var json: JSONValue {
        var attrs = JSONObject()
        for k in self.attributes.keys.sorted() { if let v = self.attributes[k] { attrs.insert(k, v.json) } }
        var o = JSONObject()
        o.insert("uid", self.uid.json)
        o.insert("attrs", .object(attrs))
        o.insert("parents", .array(self.parents.sorted().map(\.json)))
        if !self.tags.isEmpty {
            var tags = JSONObject()
            for k in self.tags.keys.sorted() { if let v = self.tags[k] { tags.insert(k, v.json) } }
            o.insert("tags", .object(tags))
        }
        return .object(o)
    }
}

extension Entities {
    /// The entities JSON array, entities sorted by UID.
    public var json: JSONValue {
        .array(self.entities.keys.sorted().compactMap { self.entities[$0]?.json })
    }
}

extension Schema {
    /// The action groups `action` belongs to, directly or transitively (not including itself).
    public func actionAncestors(of action: EntityUID) -> Set<EntityUID> {
        var seen: Set<EntityUID> = []
        var stack = Array(self.actions[action]?.memberOf ?? [])
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack.append(contentsOf: self.actions[next]?.memberOf ?? [])
        }
        seen.remove(action)
        return seen
    }

    /// One entity per declared action, with the action groups from `memberOf` as parents.
    public func actionEntities() -> [Entity] {
        self.actions.keys.sorted().compactMap { uid in
            self.actions[uid].map { Entity(uid: uid, parents: $0.memberOf) }
        }
    }
}
