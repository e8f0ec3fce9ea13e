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

extension Entities {
    /// The entities JSON array, entities sorted by UID.
    public var json: JSONValue {
        .array(self.entities.keys.sorted().compactMap { self.entities[$0]?.json })
    }
}
