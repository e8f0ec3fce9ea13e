/// A Cedar schema after parsing (Cedar or JSON syntax) and resolution: every common type is
/// inlined and every name fully qualified. The parsers in `Schema/` build it; the validator,
/// the schema-directed JSON readers and request validation read it.
public struct Schema: Sendable {
    public var entityTypes: [EntityType: EntityTypeDeclaration]
    public var actions: [EntityUID: ActionDeclaration]

    public init(entityTypes: [EntityType: EntityTypeDeclaration] = [:], actions: [EntityUID: ActionDeclaration] = [:]) {
        self.entityTypes = entityTypes
        self.actions = actions
    }
}

/// A type in a schema.
public indirect enum SchemaType: Hashable, Sendable {
    case bool
    case long
    case string
    case entity(EntityType)
    case set(SchemaType)
    case record(RecordType)
    /// `decimal`, `ipaddr`, `datetime` or `duration`.
    case `extension`(String)
}

/// A record type: attributes with their types and whether each is required.
public struct RecordType: Hashable, Sendable {
    public var attributes: [String: AttributeType]
    public init(attributes: [String: AttributeType] = [:]) { self.attributes = attributes }
}

public struct AttributeType: Hashable, Sendable {
    public var type: SchemaType
    public var isRequired: Bool
    public init(type: SchemaType, isRequired: Bool = true) {
        self.type = type
        self.isRequired = isRequired
    }
}

/// `entity T in [P…] { attrs } tags X;` or `entity T enum ["a", "b"];`
public struct EntityTypeDeclaration: Hashable, Sendable {
    public var name: EntityType
    /// Types whose entities may be direct parents of this type's.
    public var memberOfTypes: Set<EntityType>
    public var attributes: RecordType
    public var tags: SchemaType?
    /// For enumerated entity types, the only valid ids.
    public var enumValues: [String]?

    public init(name: EntityType, memberOfTypes: Set<EntityType> = [], attributes: RecordType = RecordType(),
                tags: SchemaType? = nil, enumValues: [String]? = nil) {
        self.name = name
        self.memberOfTypes = memberOfTypes
        self.attributes = attributes
        self.tags = tags
        self.enumValues = enumValues
    }
}

/// `action "a" in [groups] appliesTo { principal: [...], resource: [...], context: {...} };`
public struct ActionDeclaration: Hashable, Sendable {
    public var uid: EntityUID
    /// Direct parents (action groups).
    public var memberOf: Set<EntityUID>
    /// `nil` when the action has no `appliesTo` (it then applies to no request).
    public var appliesTo: AppliesTo?

    public struct AppliesTo: Hashable, Sendable {
        public var principalTypes: [EntityType]
        public var resourceTypes: [EntityType]
        public var context: RecordType
        public init(principalTypes: [EntityType], resourceTypes: [EntityType], context: RecordType = RecordType()) {
            self.principalTypes = principalTypes
            self.resourceTypes = resourceTypes
            self.context = context
        }
    }

    public init(uid: EntityUID, memberOf: Set<EntityUID> = [], appliesTo: AppliesTo? = nil) {
        self.uid = uid
        self.memberOf = memberOf
        self.appliesTo = appliesTo
    }
}
