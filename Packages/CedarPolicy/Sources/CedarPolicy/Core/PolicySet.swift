/// Static policies, templates and template links, with unique IDs across all three.
///
/// Invariants (checked by the mutating methods): IDs are unique; every link names an existing
/// template and fills exactly its slots.
public struct PolicySet: Sendable {
    public private(set) var staticPolicies: [Policy] = []
    public private(set) var templates: [Policy] = []
    public private(set) var links: [TemplateLink] = []
    private var ids: Set<String> = []

    public init() {}

    public init(policies: [Policy]) throws(CedarError) {
        for p in policies { try self.add(p) }
    }

    /// Adds a static policy or, if it has slots, a template.
    public mutating func add(_ policy: Policy) throws(CedarError) {
        guard self.ids.insert(policy.id).inserted else {
            throw CedarError(.duplicateID, "duplicate policy id `\(policy.id)`", at: policy.location)
        }
        if policy.isTemplate { self.templates.append(policy) } else { self.staticPolicies.append(policy) }
    }

    /// Links a template; throws if the template is unknown, the ID is taken, or the slots differ.
    public mutating func link(_ link: TemplateLink) throws(CedarError) {
        guard let template = self.templates.first(where: { $0.id == link.templateID }) else {
            throw CedarError(.template, "no template with id `\(link.templateID)`")
        }
        guard Set(template.slots) == Set(link.values.keys) else {
            let want = template.slots.map(\.rawValue).sorted().joined(separator: ", ")
            throw CedarError(.template, "template `\(link.templateID)` needs values for exactly [\(want)]")
        }
        guard !self.ids.contains(link.newID) else {
            throw CedarError(.duplicateID, "duplicate policy id `\(link.newID)`")
        }
        self.ids.insert(link.newID)
        self.links.append(link)
    }

    public func template(_ id: String) -> Policy? { self.templates.first { $0.id == id } }

    /// Static policies followed by linked policies (templates with their slots filled).
    public var effectivePolicies: [Policy] {
        var out = self.staticPolicies
        for link in self.links {
            guard let t = self.template(link.templateID) else { continue }
            out.append(t.linked(id: link.newID, values: link.values))
        }
        return out
    }
}

extension Policy {
    /// This template with its slots replaced by `values`, under a new ID.
    public func linked(id: String, values: [SlotID: EntityUID]) -> Policy {
        func fill(_ c: ScopeConstraint) -> ScopeConstraint {
            func ref(_ r: EntityReference) -> EntityReference {
                if case .slot(let s) = r, let v = values[s] { return .uid(v) }
                return r
            }
            switch c {
            case .any, .is: return c
            case .eq(let r): return .eq(ref(r))
            case .in(let r): return .in(ref(r))
            case .isIn(let t, let r): return .isIn(t, ref(r))
            }
        }
        var p = self
        p.id = id
        p.principal = fill(self.principal)
        p.resource = fill(self.resource)
        return p
    }
}
