public import LatchCore

/// When CA keys rotate: a pure function of the keys of one purpose and the time.
///
/// Lifecycle of each key: prepared → published → active → retired → deleted.
/// - **prepare** the next key when the active one has used up `prepareAt` of its lifetime;
/// - **publish** a prepared key on the next tick (it appears in bundles but signs nothing yet);
/// - **activate** a published key once it has been published for `publishLead` and the active key
///   has used up `activateAt` of its lifetime; the old key becomes retired at the same time;
/// - a retired key stays published until its `notAfter` (everything it signed expires by then,
///   because SVID lifetimes are capped by their issuer's) and is then **deleted**.
///
/// `evaluate` never mutates anything: it returns the actions; the caller performs them (with
/// compare-and-set transitions in the store, so two nodes cannot both rotate).
public struct KeyRotationPolicy: Hashable, Sendable {
    /// Lifetime of a new key (and of the X.509 CA certificate), milliseconds.
    public var keyLifetime: Int64
    /// Fraction of the active key's lifetime after which the next key is prepared.
    public var prepareAt: Double
    /// Fraction after which the next key is activated (if published long enough).
    public var activateAt: Double
    /// Minimum time a key is published before it signs, milliseconds (bundle propagation).
    public var publishLead: Int64

    public init(keyLifetime: Int64, prepareAt: Double = 0.5, activateAt: Double = 0.75, publishLead: Int64? = nil) {
        self.keyLifetime = keyLifetime
        self.prepareAt = prepareAt
        self.activateAt = activateAt
        self.publishLead = publishLead ?? keyLifetime / 10
    }
}

/// One key as the state machine sees it.
public struct KeySlotEntry: Hashable, Sendable {
    public var keyID: String
    public var state: KeyState
    public var notBefore: Int64
    public var notAfter: Int64
    public var createdAt: Int64

    public init(keyID: String, state: KeyState, notBefore: Int64, notAfter: Int64, createdAt: Int64) {
        self.keyID = keyID
        self.state = state
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.createdAt = createdAt
    }

    public init(_ key: StoredKey) {
        self.init(keyID: key.keyID, state: key.state, notBefore: key.notBefore, notAfter: key.notAfter, createdAt: key.createdAt)
    }
}

/// What to do next with a purpose's keys.
public enum KeyRotationAction: Hashable, Sendable {
    /// Generate a new key, store it `prepared`.
    case prepare
    /// Move `keyID` prepared → published.
    case publish(keyID: String)
    /// Move `keyID` published → active, and `retiring` (if any) active → retired.
    case activate(keyID: String, retiring: String?)
    /// Move a surplus prepared or published key (two nodes prepared at once) to retired: it never
    /// signs, stays published if it was, and is deleted at its `notAfter`.
    case discard(keyID: String, from: KeyState)
    /// Delete retired keys that expired before `before`.
    case deleteExpired(before: Int64)
}

public enum KeyRotation {
    /// The actions due at `now` for one purpose's keys, in the order to perform them.
    public static func evaluate(keys: [KeySlotEntry], policy: KeyRotationPolicy, now: Int64) -> [KeyRotationAction] {
        var actions: [KeyRotationAction] = []
        let active = keys.filter { $0.state == .active }.max { $0.createdAt < $1.createdAt }
        let prepared = keys.filter { $0.state == .prepared }.max { $0.createdAt < $1.createdAt }
        let published = keys.filter { $0.state == .published }.max { $0.createdAt < $1.createdAt }
        let activeUsable = active.map { now < $0.notAfter } ?? false

        for surplus in keys
        where (surplus.state == .prepared && surplus.keyID != prepared?.keyID)
            || (surplus.state == .published && surplus.keyID != published?.keyID)
        {
            actions.append(.discard(keyID: surplus.keyID, from: surplus.state))
        }
        if let prepared, published == nil {
            actions.append(.publish(keyID: prepared.keyID))
        }
        if !activeUsable {
            // Bootstrap or a lapsed key: a key is needed now. Use a published one if there is one
            // (it was already advertised), else prepare one; the caller publishes and activates it
            // at once because nothing can be signed without it.
            if let published, now < published.notAfter {
                actions.append(.activate(keyID: published.keyID, retiring: active?.keyID))
            } else if prepared == nil {
                actions.append(.prepare)
            } else if let prepared {
                actions.append(.activate(keyID: prepared.keyID, retiring: active?.keyID))
            }
        } else if let active {
            let lifetime = max(active.notAfter - active.notBefore, 1)
            let used = Double(now - active.notBefore) / Double(lifetime)
            if used >= policy.prepareAt && prepared == nil && published == nil {
                actions.append(.prepare)
            }
            if let published, used >= policy.activateAt, now - published.createdAt >= policy.publishLead {
                actions.append(.activate(keyID: published.keyID, retiring: active.keyID))
            }
        }
        if keys.contains(where: { $0.state == .retired && $0.notAfter <= now }) {
            actions.append(.deleteExpired(before: now))
        }
        return actions
    }
}
