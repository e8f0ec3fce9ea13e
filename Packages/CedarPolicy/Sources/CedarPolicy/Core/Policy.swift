/// `permit` or `forbid`.
public enum Effect: String, Hashable, Sendable {
    case permit, forbid
}

/// An entity in a scope constraint: a literal, or a template slot.
public enum EntityReference: Hashable, Sendable {
    case uid(EntityUID)
    case slot(SlotID)
}

/// The principal or resource part of a policy scope.
public enum ScopeConstraint: Hashable, Sendable {
    /// no constraint
    case any
    /// `== E`
    case eq(EntityReference)
    /// `in E`
    case `in`(EntityReference)
    /// `is T`
    case `is`(EntityType)
    /// `is T in E`
    case isIn(EntityType, EntityReference)
}

/// The action part of a policy scope.
public enum ActionConstraint: Hashable, Sendable {
    case any
    case eq(EntityUID)
    /// `in A`
    case `in`(EntityUID)
    /// `in [A, B]`
    case inSet([EntityUID])
}

/// A `when` or `unless` clause.
public struct Condition: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case when, unless }
    public var kind: Kind
    public var body: Expr
    public init(kind: Kind, body: Expr) {
        self.kind = kind
        self.body = body
    }
}

/// `@key("value")`; a bare `@key` has the value "".
public struct Annotation: Hashable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A static policy or a template (a policy whose scope holds `?principal`/`?resource` slots).
public struct Policy: Hashable, Sendable {
    public var id: String
    public var annotations: [Annotation]
    public var effect: Effect
    public var principal: ScopeConstraint
    public var action: ActionConstraint
    public var resource: ScopeConstraint
    public var conditions: [Condition]
    /// Where the policy starts in its source text. Equality ignores it.
    public var location: SourceLocation

    public init(
        id: String, annotations: [Annotation] = [], effect: Effect, principal: ScopeConstraint = .any,
        action: ActionConstraint = .any, resource: ScopeConstraint = .any, conditions: [Condition] = [],
        location: SourceLocation = .unknown
    ) {
        self.id = id
        self.annotations = annotations
        self.effect = effect
        self.principal = principal
        self.action = action
        self.resource = resource
        self.conditions = conditions
        self.location = location
    }

    /// The slots this policy's scope uses; non-empty means it is a template.
    public var slots: [SlotID] {
        var out: [SlotID] = []
        for c in [self.principal, self.resource] {
            switch c {
            case .eq(.slot(let s)), .in(.slot(let s)), .isIn(_, .slot(let s)): out.append(s)
            default: break
            }
        }
        return out
    }

    public var isTemplate: Bool { !self.slots.isEmpty }

    public func annotation(_ key: String) -> String? {
        self.annotations.first { $0.key == key }?.value
    }

    public static func == (lhs: Policy, rhs: Policy) -> Bool {
        lhs.id == rhs.id && lhs.annotations == rhs.annotations && lhs.effect == rhs.effect
            && lhs.principal == rhs.principal && lhs.action == rhs.action && lhs.resource == rhs.resource
            && lhs.conditions == rhs.conditions
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.id)
        hasher.combine(self.effect)
        hasher.combine(self.conditions)
    }
}

/// A template link: a new policy made from a template by filling its slots.
public struct TemplateLink: Hashable, Sendable {
    public var templateID: String
    public var newID: String
    public var values: [SlotID: EntityUID]
    public init(templateID: String, newID: String, values: [SlotID: EntityUID]) {
        self.templateID = templateID
        self.newID = newID
        self.values = values
    }
}
