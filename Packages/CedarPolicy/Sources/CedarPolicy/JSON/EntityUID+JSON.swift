extension EntityUID {
    /// `{"type": …, "id": …}`
    public var json: JSONValue { ["type": .string(self.type.name), "id": .string(self.id)] }

    /// Reads `{"type", "id"}` or `{"__entity": {"type", "id"}}`; extra members are ignored, as in Cedar.
    public init(json: JSONValue) throws(CedarError) {
        guard case .object(var o) = json else {
            throw CedarError(.json, "expected an entity reference `{\"type\": …, \"id\": …}`, found \(json.kindName)")
        }
        if case .object(let inner)? = o["__entity"] { o = inner }
        guard case .string(let type)? = o["type"] else {
            throw CedarError(.json, "entity reference needs a string `type`, found \(o["type"]?.kindName ?? "nothing")")
        }
        guard case .string(let id)? = o["id"] else {
            throw CedarError(.json, "entity reference needs a string `id`, found \(o["id"]?.kindName ?? "nothing")")
        }
        self.init(type: try JSONBridge.entityType(type), id: id)
    }
}
