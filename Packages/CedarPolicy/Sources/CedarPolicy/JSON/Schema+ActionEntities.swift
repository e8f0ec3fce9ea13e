extension Schema {
    /// The action groups `action` belongs to, directly or transitively (not including itself).
    public func actionAncestors(of action: EntityUID) -> Set<EntityUID> {
        var seen: Set<EntityUID> = []
        var stack = Array(self.actions[action]?.memberOf ?? [])
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            stack.append(contentsOf: self.actions[next]?.memberOf ?? [])
        }
        seen.remove(action)
        return seen
    }

    /// One entity per declared action, with the action groups from `memberOf` as parents.
    public func actionEntities() -> [Entity] {
        self.actions.keys.sorted().compactMap { uid in
            self.actions[uid].map { Entity(uid: uid, parents: $0.memberOf) }
        }
    }
}
