/// A schema as written (Cedar or JSON syntax), before name resolution. `SchemaBuilder` turns it
/// into a `Schema`.
struct RawSchema {
    var namespaces: [RawNamespace] = []
}

/// How a type name may be resolved.
enum RawReferenceKind {
    case common, entity, commonOrEntity
}

/// A type as written.
indirect enum RawType {
    /// A (possibly qualified) name to resolve.
    case reference(String, RawReferenceKind, SourceLocation?)
    case bool, long, string
    case `extension`(String)
    case set(RawType)
    case record([RawAttribute])
}

struct RawAttribute {
    var name: String
    var type: RawType
    var isRequired: Bool
    var location: SourceLocation?
}

struct RawEntityType {
    var name: String
    var memberOf: [(name: String, location: SourceLocation?)]
    var shape: RawType?
    var tags: RawType?
    var enumValues: [String]?
    var location: SourceLocation?
}

/// A reference to an action: `type` is nil when written without one (`"view"`).
struct RawActionRef {
    var type: String?
    var id: String
    var location: SourceLocation?
}

struct RawAction {
    var name: String
    var memberOf: [RawActionRef]
    var appliesTo: RawAppliesTo?
    var location: SourceLocation?
}

struct RawAppliesTo {
    var principals: [(name: String, location: SourceLocation?)]
    var resources: [(name: String, location: SourceLocation?)]
    var context: RawType?
}

struct RawNamespace {
    /// Empty for the top level.
    var name: String
    var entityTypes: [RawEntityType] = []
    var actions: [RawAction] = []
    var commonTypes: [(name: String, type: RawType, location: SourceLocation?)] = []
    var location: SourceLocation?
}
