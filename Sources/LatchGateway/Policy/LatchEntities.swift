public import CedarPolicy
public import LatchCore
public import LatchGrants
public import LatchIdentity

/// The entity types and shared attributes of every Cedar request Latch sends (the token
/// endpoint's and the gateway's), so policies see one vocabulary.
public enum LatchEntities {
    public static let agentType = EntityType(unchecked: "Latch::Agent")
    public static let taskType = EntityType(unchecked: "Latch::Task")
    public static let toolType = EntityType(unchecked: "Latch::Tool")
    public static let actionType = EntityType(unchecked: "Latch::Action")

    public static func agent(_ id: SPIFFEID) -> EntityUID { EntityUID(type: Self.agentType, id: id.description) }
    public static func action(_ name: String) -> EntityUID { EntityUID(type: Self.actionType, id: name) }

    /// An agent's attributes: `trust_domain`, `path`, and its registration entry's attributes
    /// (strings, longs, booleans, sets of strings).
    public static func agentAttributes(_ id: SPIFFEID, entry: [String: EntryAttribute]) -> [String: Value] {
        var values: [String: Value] = [:]
        for (name, attribute) in entry {
            switch attribute {
            case .string(let s): values[name] = .string(s)
            case .long(let n): values[name] = .long(n)
            case .bool(let b): values[name] = .bool(b)
            case .strings(let list): values[name] = .set(Set(list.map(Value.string)))
            }
        }
        values["trust_domain"] = .string(id.trustDomain.description)
        values["path"] = .string(id.path)
        return values
    }

    /// A set of strings as a Cedar set.
    public static func strings(_ set: some Sequence<String>) -> Value { .set(Set(set.map(Value.string))) }

    /// A task entity: `subject` (the agent it belongs to) and `intent`.
    public static func task(id: String, subject: SPIFFEID, intent: String) -> Entity {
        Entity(
            uid: EntityUID(type: Self.taskType, id: id), attributes: ["subject": .entity(Self.agent(subject)), "intent": .string(intent)])
    }

    /// The grant as policies see it: `intent`, `tools`, `data_domains`, `destinations` (sets of
    /// strings), `max_sensitivity` and `sensitivity_rank` (0 public … 3 restricted), `audience`,
    /// `lifetime_seconds`, `depth`.
    public static func grantAttributes(_ grant: TaskGrant) -> [String: Value] {
        [
            "intent": .string(grant.intent),
            "tools": Self.strings(grant.scope.tools),
            "data_domains": Self.strings(grant.scope.dataDomains),
            "destinations": Self.strings(grant.scope.destinations),
            "max_sensitivity": .string(grant.scope.maxSensitivity.rawValue),
            "sensitivity_rank": .long(Int64(grant.scope.maxSensitivity.rank)),
            "audience": Self.strings(grant.audience),
            "lifetime_seconds": .long((grant.expiresAt - grant.issuedAt) / 1000),
            "depth": .long(Int64(grant.depth)),
        ]
    }
}
