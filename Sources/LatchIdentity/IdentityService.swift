public import LatchCore

/// Settings of the identity layer, with defaults.
public struct IdentityConfiguration: Sendable {
    public var trustDomain: TrustDomain
    /// X.509 authority keys / CA certificates: lifetime 7 days by default.
    public var x509Rotation: KeyRotationPolicy
    /// JWT signing keys: lifetime 1 day by default.
    public var jwtRotation: KeyRotationPolicy
    /// `spiffe_refresh_hint` of the bundle, seconds (default 300).
    public var bundleRefreshHint: Int64
    /// Clock skew allowed when validating JWT-SVIDs, milliseconds (default 30 s).
    public var jwtClockSkew: Int64
    /// Largest JWT-SVID accepted for validation, bytes (default 16 KiB).
    public var maxJWTSize: Int

    public init(
        trustDomain: TrustDomain,
        x509Rotation: KeyRotationPolicy = KeyRotationPolicy(keyLifetime: 7 * 86_400_000),
        jwtRotation: KeyRotationPolicy = KeyRotationPolicy(keyLifetime: 86_400_000),
        bundleRefreshHint: Int64 = 300, jwtClockSkew: Int64 = 30_000, maxJWTSize: Int = 16 * 1024
    ) {
        self.trustDomain = trustDomain
        self.x509Rotation = x509Rotation
        self.jwtRotation = jwtRotation
        self.bundleRefreshHint = bundleRefreshHint
        self.jwtClockSkew = jwtClockSkew
        self.maxJWTSize = maxJWTSize
    }
}

/// The identity layer in one place: the CA's keys (loaded from and rotated in the store),
/// registrations → SVIDs, JWT-SVID validation and the current trust bundle.
///
/// Call ``tick()`` at start and periodically (e.g. every 10 s): it bootstraps keys on first use
/// and performs due rotations. Several nodes may tick at once: transitions are compare-and-set.
public actor IdentityService {
    public let configuration: IdentityConfiguration
    let store: any IdentityStore
    let sealer: KeySealer
    let clock: any WallClock

    private(set) var keys: [CAKey] = []
    private var currentBundle: TrustBundle
    private var validator: JWTSVIDValidator
    /// The bundle's `spiffe_sequence`: the store's ``KeyRepository/keysRevision()`` when the keys
    /// were last loaded (0 before the first ``reload()``).
    ///
    /// It comes from the store, so every node sharing a store publishes the same number for the
    /// same keys, and it does not go back after a restart. It grows whenever the published keys
    /// change, and also on key writes that leave the bundle as it was (saving a prepared key,
    /// which is not in the bundle): extra increments are harmless, the format only requires the
    /// sequence to grow when the content does.
    public private(set) var bundleSequence: Int64 = 0

    public init(configuration: IdentityConfiguration, store: any IdentityStore, sealer: KeySealer, clock: any WallClock) {
        self.configuration = configuration
        self.store = store
        self.sealer = sealer
        self.clock = clock
        self.currentBundle = TrustBundle(
            trustDomain: configuration.trustDomain, keys: [], sequence: 0,
            refreshHint: configuration.bundleRefreshHint)
        self.validator = self.currentBundle.jwtValidator(clockSkew: configuration.jwtClockSkew, maxTokenSize: configuration.maxJWTSize)
    }

    // MARK: Keys and rotation

    /// How many times ``reload()`` reads the keys before giving up on a store whose keys keep changing.
    static let reloadAttempts = 8

    /// Loads keys, performs due rotation steps for both purposes, reloads. Returns what was done.
    @discardableResult
    public func tick() async throws -> [KeyPurpose: [KeyRotationAction]] {
        let now = self.clock.now().milliseconds
        var done: [KeyPurpose: [KeyRotationAction]] = [:]
        for purpose in KeyPurpose.allCases {
            let policy = purpose == .x509Authority ? self.configuration.x509Rotation : self.configuration.jwtRotation
            // Bootstrap needs prepare → publish → activate in one tick: iterate a few times.
            for _ in 0..<4 {
                let stored = try await self.store.keys(purpose: purpose)
                let actions = KeyRotation.evaluate(keys: stored.map(KeySlotEntry.init), policy: policy, now: now)
                if actions.isEmpty { break }
                for action in actions {
                    try await self.apply(action, purpose: purpose, stored: stored, policy: policy, now: now)
                }
                done[purpose, default: []].append(contentsOf: actions)
                if actions.allSatisfy({ if case .deleteExpired = $0 { true } else { false } }) { break }
            }
        }
        try await self.reload()
        return done
    }

    private func apply(_ action: KeyRotationAction, purpose: KeyPurpose, stored: [StoredKey], policy: KeyRotationPolicy, now: Int64) async throws {
        switch action {
        case .prepare:
            let key = try CAKey.generate(purpose: purpose, trustDomain: self.configuration.trustDomain, now: now, lifetime: policy.keyLifetime)
            try await self.store.saveKey(try key.stored(sealer: self.sealer))
        case .publish(let keyID):
            _ = try await self.store.transitionKey(keyID: keyID, from: .prepared, to: .published)
        case .activate(let keyID, let retiring):
            if stored.first(where: { $0.keyID == keyID })?.state == .prepared {
                _ = try await self.store.transitionKey(keyID: keyID, from: .prepared, to: .published)
            }
            if let retiring {
                _ = try await self.store.transitionKey(keyID: retiring, from: .active, to: .retired)
            }
            _ = try await self.store.transitionKey(keyID: keyID, from: .published, to: .active)
        case .discard(let keyID, let from):
            _ = try await self.store.transitionKey(keyID: keyID, from: from, to: .retired)
        case .deleteExpired(let before):
            _ = try await self.store.deleteExpiredKeys(before: before)
        }
    }

    /// Reloads keys from the store (e.g. after another node rotated) and rebuilds the bundle.
    ///
    /// The keys are read between two reads of the store's keys revision and kept only if it did
    /// not move, so they are exactly the keys of that revision: two nodes never publish different
    /// keys under one sequence number. A key write landing in between means another try; if the
    /// keys keep changing through every try this throws `conflict` and keeps the previous bundle.
    /// Keys of an older revision than the current bundle's are not loaded, so the sequence never
    /// goes back.
    public func reload() async throws {
        var snapshot: (keys: [StoredKey], revision: Int64)?
        for _ in 0..<Self.reloadAttempts where snapshot == nil {
            let revision = try await self.store.keysRevision()
            var stored: [StoredKey] = []
            for purpose in KeyPurpose.allCases {
                stored += try await self.store.keys(purpose: purpose)
            }
            if try await self.store.keysRevision() == revision { snapshot = (stored, revision) }
        }
        guard let snapshot else {
            throw LatchError(.conflict, "the CA keys changed during each of \(Self.reloadAttempts) attempts to load them")
        }
        let loaded = try snapshot.keys.map { try CAKey(stored: $0, sealer: self.sealer) }
        // Two reloads of this actor may interleave at the awaits: the one that read an older
        // revision must not replace what the other loaded.
        guard snapshot.revision >= self.bundleSequence else { return }
        self.keys = loaded
        self.bundleSequence = snapshot.revision
        self.currentBundle = TrustBundle(
            trustDomain: self.configuration.trustDomain, keys: loaded, sequence: self.bundleSequence,
            refreshHint: self.configuration.bundleRefreshHint)
        self.validator = self.currentBundle.jwtValidator(clockSkew: self.configuration.jwtClockSkew, maxTokenSize: self.configuration.maxJWTSize)
    }

    /// The active key of a purpose (newest if several, e.g. mid-rotation on another node).
    public func activeKey(_ purpose: KeyPurpose) -> CAKey? {
        self.keys.filter { $0.purpose == purpose && $0.state == .active }.max { $0.createdAt < $1.createdAt }
    }

    /// The current trust bundle (published, active and retired keys).
    public func bundle() -> TrustBundle { self.currentBundle }

    // MARK: SVIDs

    /// Registration entries whose selectors are all among `selectors`.
    public func entries(matching selectors: [Selector]) async throws -> [RegistrationEntry] {
        try await self.store.entries(matching: Set(selectors))
    }

    /// One X.509-SVID per matching entry (empty when none match: the caller denies).
    public func mintX509SVIDs(for selectors: [Selector]) async throws -> [X509SVID] {
        let entries = try await self.entries(matching: selectors)
        return try entries.map { entry throws(LatchError) in try self.mintX509SVID(for: entry) }
    }

    public func mintX509SVID(for entry: RegistrationEntry) throws(LatchError) -> X509SVID {
        guard let authority = self.activeKey(.x509Authority) else { throw LatchError(.noActiveKey, "no active X.509 authority; run tick() first") }
        return try X509SVIDMinter.mintAndVerify(
            spiffeID: entry.spiffeID, ttl: entry.x509SVIDTTL * 1000,
            now: self.clock.now().milliseconds, authority: authority)
    }

    /// JWT-SVIDs for the entries matching `selectors` (only the one for `spiffeID` if given).
    public func mintJWTSVIDs(for selectors: [Selector], audience: [String], spiffeID: SPIFFEID? = nil) async throws -> [JWTSVID] {
        var entries = try await self.entries(matching: selectors)
        if let spiffeID { entries = entries.filter { $0.spiffeID == spiffeID } }
        return try entries.map { entry throws(LatchError) in
            try self.mintJWTSVID(spiffeID: entry.spiffeID, audience: audience, ttl: entry.jwtSVIDTTL * 1000)
        }
    }

    public func mintJWTSVID(spiffeID: SPIFFEID, audience: [String], ttl: Int64) throws(LatchError) -> JWTSVID {
        guard let key = self.activeKey(.jwtSigning) else { throw LatchError(.noActiveKey, "no active JWT signing key; run tick() first") }
        return try JWTSVIDMinter.mintAndVerify(
            spiffeID: spiffeID, audience: audience, ttl: ttl, now: self.clock.now().milliseconds,
            key: key, validator: self.validator)
    }

    /// Validates a JWT-SVID of this trust domain for `audience` at the current time.
    public func validateJWTSVID(_ token: String, audience: String) throws(LatchError) -> ValidatedJWTSVID {
        try self.validator.validate(token, audience: audience, now: self.clock.now().milliseconds)
    }

    /// The current JWT validator (a value: callers on a hot path may keep it and refresh on rotation).
    public func jwtValidator() -> JWTSVIDValidator { self.validator }
}
