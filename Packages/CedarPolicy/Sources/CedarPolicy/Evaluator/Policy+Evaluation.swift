/// Evaluating a single policy directly (no index), as the reference for ``Authorizer``.
extension Policy {
    /// Whether this policy's scope matches `request` (slots never match).
    public func scopeMatches(_ request: Request, entities: Entities) -> Bool {
        func matches(_ c: ScopeConstraint, _ uid: EntityUID) -> Bool {
            switch c {
            case .any: true
            case .eq(.uid(let e)): uid == e
            case .in(.uid(let e)): entities.isDescendant(uid, of: e)
            case .is(let t): uid.type == t
            case .isIn(let t, .uid(let e)): uid.type == t && entities.isDescendant(uid, of: e)
            case .eq(.slot), .in(.slot), .isIn(_, .slot): false
            }
        }
        let actionMatches: Bool =
            switch self.action {
            case .any: true
            case .eq(let a): request.action == a
            case .in(let a): entities.isDescendant(request.action, of: a)
            case .inSet(let list): list.contains { entities.isDescendant(request.action, of: $0) }
            }
        return matches(self.principal, request.principal) && actionMatches && matches(self.resource, request.resource)
    }
}
