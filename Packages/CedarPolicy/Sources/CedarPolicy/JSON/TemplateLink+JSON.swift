extension TemplateLink {
    /// `{"templateId", "newId", "values": {"?principal": {"type", "id"}}}`
    public var json: JSONValue {
        var values = JSONObject()
        for slot in [SlotID.principal, .resource] {
            if let uid = self.values[slot] { values.insert(slot.rawValue, uid.json) }
        }
        return ["templateId": .string(self.templateID), "newId": .string(self.newID), "values": .object(values)]
    }

    public init(json: JSONValue) throws(CedarError) {
        let o = try ESTReader.object(json, "a template link")
        try ESTReader.only(o, ["templateId", "newId", "values"], "a template link")
        let template = try ESTReader.string(o, "templateId", "a template link")
        let newID = try ESTReader.string(o, "newId", "a template link")
        var values: [SlotID: EntityUID] = [:]
        for (key, v) in try ESTReader.object(try ESTReader.field(o, "values", "a template link"), "`values`") {
            guard let slot = SlotID(rawValue: key) else { throw CedarError(.json, "unknown slot `\(key)` in a template link") }
            values[slot] = try EntityUID(json: v)
        }
        self.init(templateID: template, newID: newID, values: values)
    }
}
