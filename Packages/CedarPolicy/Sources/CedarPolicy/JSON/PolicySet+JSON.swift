extension PolicySet {
    /// `{"staticPolicies": {id: policy}, "templates": {id: template}, "templateLinks": [link]}`
    public var json: JSONValue {
        var statics = JSONObject()
        for p in self.staticPolicies { statics[p.id] = p.json }
        var templates = JSONObject()
        for t in self.templates { templates[t.id] = t.json }
        return ["staticPolicies": .object(statics), "templates": .object(templates), "templateLinks": .array(self.links.map(\.json))]
    }

    /// Reads a policy set in Cedar's JSON format; missing sections count as empty.
    ///
    /// A static policy with slots or a template without slots is a `.template` error; IDs must be
    /// unique across policies, templates and links (`.duplicateID`); links are checked as by ``link(_:)``.
    public init(json: JSONValue) throws(CedarError) {
        let o = try ESTReader.object(json, "a policy set")
        try ESTReader.only(o, ["staticPolicies", "templates", "templateLinks"], "a policy set")
        self.init()
        if let s = o["staticPolicies"] {
            for (id, p) in try ESTReader.object(s, "`staticPolicies`") {
                let policy = try Policy(json: p, id: id)
                guard !policy.isTemplate else { throw CedarError(.template, "static policy `\(id)` has slots") }
                try self.add(policy)
            }
        }
        if let t = o["templates"] {
            for (id, p) in try ESTReader.object(t, "`templates`") {
                let policy = try Policy(json: p, id: id)
                guard policy.isTemplate else { throw CedarError(.template, "template `\(id)` has no slots") }
                try self.add(policy)
            }
        }
        if let l = o["templateLinks"] {
            guard case .array(let links) = l else { throw CedarError(.json, "`templateLinks` must be an array") }
            for link in links { try self.link(try TemplateLink(json: link)) }
        }
    }
}
