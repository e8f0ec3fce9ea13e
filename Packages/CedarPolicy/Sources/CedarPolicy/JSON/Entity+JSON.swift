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
