/// One entity: its attributes, direct parents and tags.
public struct Entity: Hashable, Sendable {
    public var uid: EntityUID
    public var attributes: [String: Value]
    public var parents: Set<EntityUID>
    public var tags: [String: Value]

    public init(uid: EntityUID, attributes: [String: Value] = [:], parents: Set<EntityUID> = [], tags: [String: Value] = [:]) {
        self.uid = uid
        self.attributes = attributes
        self.parents = parents
        self.tags = tags
    }
}

/// The entity store: entities by UID and, for each, the transitive closure of its ancestors.
///
/// Invariants: `ancestors(of:)` is the full transitive closure of `parents`, computed once at
/// construction; parents that are not themselves in the store still count as ancestors; the
/// hierarchy is acyclic (as in Cedar, an entity that is its own ancestor is an error).
public struct Entities: Sendable {
    public private(set) var entities: [EntityUID: Entity]
    private var closure: [EntityUID: Set<EntityUID>]

    public init() {
        self.entities = [:]
        self.closure = [:]
    }

    /// Builds the store; throws on a duplicate UID or a cycle in the hierarchy.
    public init(_ list: [Entity]) throws(CedarError) {
        var map: [EntityUID: Entity] = [:]
        map.reserveCapacity(list.count)
        for e in list {
            guard map.updateValue(e, forKey: e.uid) == nil else {
                throw CedarError(.entities, "duplicate entity entry `\(e.uid)`")
            }
        }
        try self.init(uniqued: map)
    }

    private init(uniqued map: [EntityUID: Entity]) throws(CedarError) {
        self.entities = map
        self.closure = Self.transitiveClosure(map)
        // An entity in a cycle reaches itself. Report the smallest such UID so the message is stable.
        if let looped = self.closure.filter({ $0.value.contains($0.key) }).keys.min() {
            throw CedarError(.entities, "the entity hierarchy has a cycle through `\(looped)`")
        }
    }

    /// This store with `other`'s entities added; entities in both are taken from `other`.
    /// Throws if the result has a cycle in its hierarchy.
    public func merging(_ other: [Entity]) throws(CedarError) -> Entities {
        var map = self.entities
        for e in other { map[e.uid] = e }
        return try Entities(uniqued: map)
    }

    @inlinable public subscript(uid: EntityUID) -> Entity? { self.entities[uid] }

    /// All ancestors of `uid` (not including itself); empty for unknown entities.
    public func ancestors(of uid: EntityUID) -> Set<EntityUID> { self.closure[uid] ?? [] }

    /// Whether `descendant` is `ancestor` or has it among its ancestors.
    public func isDescendant(_ descendant: EntityUID, of ancestor: EntityUID) -> Bool {
        descendant == ancestor || (self.closure[descendant]?.contains(ancestor) ?? false)
    }

    public var count: Int { self.entities.count }

    private static func transitiveClosure(_ map: [EntityUID: Entity]) -> [EntityUID: Set<EntityUID>] {
        var closure: [EntityUID: Set<EntityUID>] = [:]
        closure.reserveCapacity(map.count)
        // Iterative DFS with memoisation. A node in a cycle ends up in its own closure; `init` rejects that.
        for uid in map.keys where closure[uid] == nil {
            var seen: Set<EntityUID> = []
            var stack = Array(map[uid]?.parents ?? [])
            while let next = stack.popLast() {
                guard seen.insert(next).inserted else { continue }
                if let done = closure[next] {
                    seen.formUnion(done)
                } else if let parents = map[next]?.parents {
                    stack.append(contentsOf: parents)
                }
            }
            closure[uid] = seen
        }
        return closure
    }
}
