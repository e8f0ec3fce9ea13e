import Synchronization

/// Revoked grant IDs, checked on every request without touching the store.
///
/// A grant carries its ancestors' IDs (``TaskGrant/ancestors``), so it is revoked when its own ID
/// or any ancestor's is in the index: revoking a root revokes every descendant at once, however
/// many there are, with one insertion. Entries can be dropped once the grant has expired
/// (``sweep(before:)``); the store keeps the durable record and fills a new node's index at start.
public final class RevocationIndex: Sendable {
    /// Grant ID → the grant's expiry (milliseconds), after which the entry is no longer needed.
    private let revoked = Mutex<[String: Int64]>([:])

    public init() {}

    /// Records `grantID` as revoked until `expiresAt`. Idempotent.
    public func revoke(_ grantID: String, expiresAt: Int64) {
        self.revoked.withLock { revoked in revoked[grantID] = max(revoked[grantID] ?? .min, expiresAt) }
    }

    /// Whether the grant or any of its ancestors is revoked.
    public func isRevoked(_ grant: TaskGrant) -> Bool {
        self.revoked.withLock { revoked in
            revoked[grant.id] != nil || grant.ancestors.contains { revoked[$0] != nil }
        }
    }

    /// Forgets entries of grants expired before `before`; returns how many.
    @discardableResult
    public func sweep(before: Int64) -> Int {
        self.revoked.withLock { revoked in
            let count = revoked.count
            revoked = revoked.filter { $0.value >= before }
            return count - revoked.count
        }
    }

    public var count: Int { self.revoked.withLock { $0.count } }
}
