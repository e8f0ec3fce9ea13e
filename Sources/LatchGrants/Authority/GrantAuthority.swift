public import Crypto
public import LatchCore
public import LatchIdentity
import Synchronization

/// Lifetimes and limits of the grants an authority issues.
public struct GrantSettings: Hashable, Sendable {
    /// Lifetime of a grant when the request names none, milliseconds (default 5 minutes).
    public var defaultLifetime: Int64 = 300_000
    /// The longest lifetime a request may ask for, milliseconds (default 1 hour).
    public var maxLifetime: Int64 = 3_600_000
    /// The audiences grants may be issued for (the gateways); a request naming none gets all of
    /// them, one naming another is refused (`invalid_target`). Grants are signed with the JWT-SVID
    /// key, so keeping their audiences to resource servers that check `typ` keeps a grant from
    /// being taken for a JWT-SVID elsewhere.
    public var audiences: Set<String> = ["latch-gateway"]
    public var delegation = DelegationPolicy()
    /// Issuance commits in flight at once (see ``GroupCommit``): 1 for SQLite, where commits
    /// serialize anyway; more for PostgreSQL, where a commit is mostly a network round-trip.
    public var concurrentCommits = 1

    public init() {}
}

/// A grant as handed to the agent: the token and what it says.
public struct IssuedGrant: Sendable {
    public let token: String
    public let grant: TaskGrant
}

/// What RFC 7662 introspection reveals.
public enum Introspection: Sendable {
    case inactive
    case active(TaskGrant)
}

/// The token endpoint's logic, independent of HTTP: RFC 8693 exchanges (a JWT-SVID for a task
/// grant, a grant for a delegated one), each decided by the ``GrantDecider`` and persisted before
/// it is returned; revocation (RFC 7009), task completion and introspection (RFC 7662).
///
/// Durability: an issued grant is returned only after its row is committed (``GroupCommit``
/// batches concurrent issuances into one transaction). A revocation takes effect in this node's
/// ``RevocationIndex`` first, then is committed; it is acknowledged only once committed, and a
/// failed commit leaves the grant revoked here (fail closed).
public final class GrantAuthority: Sendable {
    /// The keys in force; replaced on rotation by ``setKeys(issuer:signingKey:svidValidator:)``.
    /// A class: every request reads them, and handing out a reference is one retain where a copy
    /// of all these values is dozens.
    public final class Keys: Sendable {
        public let issuer: String
        public let signingKey: CAKey?
        /// Validates subject and actor JWT-SVIDs (audience: the issuer).
        public let svidValidator: JWTSVIDValidator
        /// Verifies grants (same keys as JWT-SVIDs: grants are signed with the JWT signing key).
        public let verifier: GrantVerifier

        init(issuer: String, signingKey: CAKey?, svidValidator: JWTSVIDValidator, verifier: GrantVerifier) {
            self.issuer = issuer
            self.signingKey = signingKey
            self.svidValidator = svidValidator
            self.verifier = verifier
        }
    }

    public let settings: GrantSettings
    public let repository: any GrantRepository
    public let decider: any GrantDecider
    public let clock: any WallClock
    /// Revoked grants, shared with every verifier this authority hands out.
    public let revocations: RevocationIndex
    /// Agents quarantined (by the guard's kill switch or an operator): refused grants, and their
    /// calls denied by the gateway.
    public let quarantines = QuarantineIndex()
    /// Where quarantines are kept, when anywhere (nil: on this node only).
    public let quarantineStore: (any QuarantineRepository)?
    private let delegationGuard = Mutex<(any DelegationGuard)?>(nil)
    public let replayCache: DPoPReplayCache
    private let dpop: DPoPVerifier
    private let current = Mutex<Keys?>(nil)
    private let revisionSeen = Mutex<Int64?>(nil)
    private let commits: GroupCommit<GrantRecord>
    /// Turns a federated OIDC token into the SPIFFE ID its registration entry names (verifying it
    /// against its issuer); nil when no issuer is federated.
    public let federatedSubject: (@Sendable (String, Int64) async throws -> SPIFFEID)?

    public init(
        settings: GrantSettings, repository: any GrantRepository, decider: any GrantDecider, clock: any WallClock,
        revocations: RevocationIndex = RevocationIndex(), replayCache: DPoPReplayCache = DPoPReplayCache(),
        federatedSubject: (@Sendable (String, Int64) async throws -> SPIFFEID)? = nil, quarantineStore: (any QuarantineRepository)? = nil
    ) {
        self.federatedSubject = federatedSubject
        self.quarantineStore = quarantineStore
        self.settings = settings
        self.repository = repository
        self.decider = decider
        self.clock = clock
        self.revocations = revocations
        self.replayCache = replayCache
        self.dpop = DPoPVerifier(replayCache: replayCache)
        self.commits = GroupCommit(maxWriters: settings.concurrentCommits) { grants in try await repository.saveGrants(grants) }
    }

    /// Installs the issuer URL and keys (at start, when the listener is bound, after rotation).
    /// Cheap when nothing changed: the verifier and its caches are kept.
    public func setKeys(issuer: String, signingKey: CAKey?, svidValidator: JWTSVIDValidator) {
        self.current.withLock { current in
            if let current, current.issuer == issuer, current.signingKey?.keyID == signingKey?.keyID,
                current.svidValidator.keys.keys.sorted() == svidValidator.keys.keys.sorted()
            {
                return
            }
            // A fresh verified-grant cache: a grant verified under keys no longer published must
            // be checked again (and fail).
            let verifier = GrantVerifier(
                issuer: issuer, keys: svidValidator.keys, revocations: self.revocations, dpop: self.dpop, verified: VerifiedGrantCache())
            current = Keys(issuer: issuer, signingKey: signingKey, svidValidator: svidValidator, verifier: verifier)
        }
    }

    public var keys: Keys? { self.current.withLock { $0 } }

    /// Installs what screens delegations after policy allowed them (the gateway's guard rules).
    public func setDelegationGuard(_ delegationGuard: (any DelegationGuard)?) {
        self.delegationGuard.withLock { $0 = delegationGuard }
    }

    // MARK: Token exchange

    /// Performs the exchange `request`, sent with DPoP `proof` for `proofTarget` (the token
    /// endpoint's method and URI). Every refusal is a ``TokenExchangeError`` naming the bound crossed.
    public func exchange(_ request: TokenExchangeRequest, proof: String?, proofTarget: DPoPRequest) async throws(TokenExchangeError)
        -> IssuedGrant
    {
        guard let keys = self.keys else { throw TokenExchangeError(.serverError, "the token endpoint is not ready") }
        guard let proof else { throw TokenExchangeError(.invalidDPoPProof, "a DPoP proof is required") }
        let now = self.clock.now().milliseconds
        let grant: TaskGrant
        switch request.subjectKind {
        case .jwtSVID:
            let subject: SPIFFEID
            do { subject = try keys.svidValidator.validate(request.subjectToken.unredacted, audience: keys.issuer, now: now).spiffeID } catch {
                throw TokenExchangeError(.invalidRequest, "subject_token: \(error.message)")
            }
            try self.refuseQuarantined(subject)
            grant = try self.newTaskGrant(request, subject: subject, proof: proof, proofTarget: proofTarget, keys: keys, now: now)
        case .federatedToken:
            guard let resolve = self.federatedSubject else {
                throw TokenExchangeError(.invalidRequest, "no federated issuers are configured: subject_token must be a JWT-SVID")
            }
            let subject: SPIFFEID
            do { subject = try await resolve(request.subjectToken.unredacted, now) } catch let error as LatchError {
                throw TokenExchangeError(.invalidRequest, "subject_token: \(error.message)")
            } catch {
                throw TokenExchangeError(.invalidRequest, "subject_token could not be verified")
            }
            try self.refuseQuarantined(subject)
            grant = try self.newTaskGrant(request, subject: subject, proof: proof, proofTarget: proofTarget, keys: keys, now: now)
        case .grant:
            grant = try self.delegatedGrant(request, proof: proof, proofTarget: proofTarget, keys: keys, now: now)
            if let screen = self.delegationGuard.withLock({ $0 }), let parentID = grant.parentID,
                let refusal = await screen.screen(delegation: grant, parentID: parentID, now: now)
            {
                throw TokenExchangeError(.invalidRequest, "\(refusal.reason): \(refusal.message)")
            }
        }
        return try await self.issue(grant, keys: keys)
    }

    /// Signs a grant already decided and returns it once it is stored: the issuance step of
    /// ``exchange(_:proof:proofTarget:)`` (public for benchmarks and tools).
    public func issue(_ grant: TaskGrant) async throws(TokenExchangeError) -> IssuedGrant {
        guard let keys = self.keys else { throw TokenExchangeError(.serverError, "the token endpoint is not ready") }
        return try await self.issue(grant, keys: keys)
    }

    private func issue(_ grant: TaskGrant, keys: Keys) async throws(TokenExchangeError) -> IssuedGrant {
        guard let signingKey = keys.signingKey else { throw TokenExchangeError(.serverError, "no active signing key") }
        let minted: (token: String, record: GrantRecord)
        do { minted = try GrantToken.mintRecorded(grant, issuer: keys.issuer, key: signingKey) } catch {
            throw TokenExchangeError(.serverError, "the grant could not be signed: \(error.message)")
        }
        do { try await self.commits.submit(minted.record) } catch {
            throw TokenExchangeError(.serverError, "the grant could not be stored; nothing was issued")
        }
        return IssuedGrant(token: minted.token, grant: grant)
    }

    /// A new task grant for `subject` (from a JWT-SVID or a federated token).
    private func newTaskGrant(
        _ request: TokenExchangeRequest, subject: SPIFFEID, proof: String, proofTarget: DPoPRequest, keys: Keys, now: Int64
    ) throws(TokenExchangeError) -> TaskGrant {
        guard request.actorToken == nil else { throw TokenExchangeError(.invalidRequest, "actor_token is only for delegating a grant") }
        let thumbprint = try self.proofKey(proof, proofTarget, now: now, keys: keys)
        if let requested = request.keyThumbprint, requested != thumbprint {
            throw TokenExchangeError(.invalidRequest, "dpop_jkt is not the DPoP proof's key")
        }
        if let other = request.audience.subtracting(self.settings.audiences).sorted().first {
            throw TokenExchangeError(.invalidTarget, "grants are not issued for audience \"\(other.prefix(64))\"")
        }
        guard let intent = request.intent else { throw TokenExchangeError(.invalidRequest, "intent is required for a new task grant") }
        guard let scope = request.scope else { throw TokenExchangeError(.invalidScope, "scope is required for a new task grant") }
        let lifetime = request.requestedLifetime ?? self.settings.defaultLifetime
        guard lifetime <= self.settings.maxLifetime else {
            throw TokenExchangeError(.invalidRequest, "requested_lifetime exceeds the maximum of \(self.settings.maxLifetime / 1000) s")
        }
        let issuedAt = now / 1000 * 1000
        var expiresAt = issuedAt + lifetime / 1000 * 1000
        if let key = keys.signingKey { expiresAt = min(expiresAt, key.notAfter / 1000 * 1000) }
        guard expiresAt > issuedAt else { throw TokenExchangeError(.invalidRequest, "requested_lifetime must be at least 1 s") }
        let grant = TaskGrant(
            id: TaskGrant.newID(now: now), taskID: TaskGrant.newID(now: now), subject: subject,
            audience: request.audience.isEmpty ? self.settings.audiences : request.audience, intent: intent, scope: scope,
            issuedAt: issuedAt, expiresAt: expiresAt, keyThumbprint: thumbprint, mayAct: request.mayAct)
        let decision = self.decider.decide(.issue(grant))
        guard decision.allowed else {
            throw TokenExchangeError(.invalidScope, "denied by policy" + Self.describe(decision))
        }
        return grant
    }

    /// A delegated grant. The actor sends the request: its `DPoP` proof binds the child to its key,
    /// its `actor_token` names it, and `subject_token_dpop`, a proof by the parent grant's key over
    /// the parent grant (`ath`), shows that the parent's holder hands it on. Neither side gives the
    /// other a credential it could use alone: a copy of the parent without that proof delegates
    /// nothing, and the actor's JWT-SVID never leaves the actor.
    private func delegatedGrant(_ request: TokenExchangeRequest, proof: String, proofTarget: DPoPRequest, keys: Keys, now: Int64)
        throws(TokenExchangeError) -> TaskGrant
    {
        let parent: TaskGrant
        do { parent = try keys.verifier.decode(request.subjectToken.unredacted, now: now) } catch {
            throw TokenExchangeError(.invalidRequest, "subject_token: \(error.message)")
        }
        guard !self.revocations.isRevoked(parent) else { throw TokenExchangeError(.invalidRequest, "subject_token: the grant is revoked") }
        if let quarantine = self.quarantines.quarantine(of: parent) { throw Self.quarantined(quarantine) }
        guard let parentProof = request.subjectTokenProof else {
            throw TokenExchangeError(
                .invalidRequest, "subject_token_dpop (a DPoP proof by the subject grant's key, over that grant) is required to delegate")
        }
        let parentTarget = DPoPRequest(
            method: proofTarget.method, uri: proofTarget.uri, accessToken: request.subjectToken, boundThumbprint: parent.keyThumbprint)
        do { _ = try keys.verifier.dpop.verify(parentProof, for: parentTarget, now: now) } catch {
            throw TokenExchangeError(.invalidDPoPProof, "subject_token_dpop: \(error.message)")
        }
        let actorKey = try self.proofKey(proof, proofTarget, now: now, keys: keys)
        if let requested = request.keyThumbprint, requested != actorKey {
            throw TokenExchangeError(.invalidRequest, "dpop_jkt is not the DPoP proof's key")
        }
        guard let actorToken = request.actorToken else { throw TokenExchangeError(.invalidRequest, "actor_token is required to delegate") }
        let actor: SPIFFEID
        do { actor = try keys.svidValidator.validate(actorToken.unredacted, audience: keys.issuer, now: now).spiffeID } catch {
            throw TokenExchangeError(.invalidRequest, "actor_token: \(error.message)")
        }
        try self.refuseQuarantined(actor)
        guard request.intent == nil || request.intent == parent.intent else {
            throw TokenExchangeError(.invalidRequest, "a delegated grant keeps its parent's intent")
        }
        let child = try self.settings.delegation.delegate(
            parent,
            DelegationRequest(
                actor: actor, actorKeyThumbprint: actorKey, scope: request.scope, audience: request.audience.isEmpty ? nil : request.audience,
                lifetime: request.requestedLifetime, mayAct: request.mayAct),
            id: TaskGrant.newID(now: now), now: now / 1000 * 1000)
        let decision = self.decider.decide(.delegate(parent: parent, child: child))
        guard decision.allowed else {
            throw TokenExchangeError(.unauthorizedClient, "delegation to \(actor) denied by policy" + Self.describe(decision))
        }
        return child
    }

    private func refuseQuarantined(_ agent: SPIFFEID) throws(TokenExchangeError) {
        if let quarantine = self.quarantines.quarantine(of: agent) { throw Self.quarantined(quarantine) }
    }

    static func quarantined(_ quarantine: AgentQuarantine) -> TokenExchangeError {
        TokenExchangeError(
            .unauthorizedClient,
            "agent_quarantined: \(quarantine.agent) is quarantined (\(quarantine.reason)) until an operator releases it")
    }

    /// Verifies a token-endpoint proof (no access token) and returns its key's thumbprint.
    private func proofKey(_ proof: String, _ target: DPoPRequest, now: Int64, keys: Keys) throws(TokenExchangeError) -> String {
        do { return try keys.verifier.dpop.verify(proof, for: target, now: now).keyThumbprint } catch {
            throw TokenExchangeError(.invalidDPoPProof, error.message)
        }
    }

    // MARK: Revocation, completion, introspection

    /// RFC 7009: revokes the grant `token` names, and so everything delegated from it. A token
    /// that is not a valid grant of this issuer (or has expired) needs nothing and returns nil.
    /// Possession of the grant is the authority to revoke it: revoking only takes rights away.
    public func revoke(token: String) async throws -> GrantRevocation? {
        guard let keys = self.keys, let grant = try? keys.verifier.decode(token, now: self.clock.now().milliseconds) else { return nil }
        return try await self.revoke(grantID: grant.id, expiresAt: grant.expiresAt, reason: .revoked)
    }

    /// Task completion: the holder of `token` (proven by its DPoP proof) declares its work done.
    /// Its grant and every grant delegated from it are revoked; for the root grant, the task ends.
    public func complete(token: String, proof: String, request: DPoPRequest) async throws -> TaskGrant {
        let grant = try self.holderGrant(token: token, proof: proof, request: request)
        _ = try await self.revoke(grantID: grant.id, expiresAt: grant.expiresAt, reason: .completed)
        return grant
    }

    /// The grant `token`, checked as the hot path does (signature, claims, DPoP proof bound to
    /// it) except for revocation: completing a grant already revoked here, or retrying a
    /// completion whose commit failed, must reach the store.
    public func holderGrant(token: String, proof: String, request: DPoPRequest) throws(LatchError) -> TaskGrant {
        guard let keys = self.keys else { throw LatchError(.noActiveKey, "the token endpoint is not ready") }
        let now = self.clock.now().milliseconds
        let grant = try keys.verifier.decode(token, now: now)
        let target = DPoPRequest(method: request.method, uri: request.uri, accessToken: Redacted(token), boundThumbprint: grant.keyThumbprint)
        _ = try keys.verifier.dpop.verify(proof, for: target, now: now)
        return grant
    }

    /// Revokes `grantID` on this node at once, then durably. Returns the revocation recorded (the
    /// first one, if the grant was already revoked).
    @discardableResult
    public func revoke(grantID: String, expiresAt: Int64, reason: RevocationReason) async throws -> GrantRevocation {
        self.revocations.revoke(grantID, expiresAt: expiresAt)
        let revocation = GrantRevocation(grantID: grantID, reason: reason, revokedAt: self.clock.now().milliseconds, expiresAt: expiresAt)
        if try await self.repository.revoke([revocation]).isEmpty, let first = try await self.repository.revocation(grantID: grantID) {
            return first
        }
        return revocation
    }

    /// RFC 7662: what `token` is, for a caller authenticated by its JWT-SVID (`callerToken`,
    /// audience the issuer). An unauthenticated caller gets an error; an invalid, expired or
    /// revoked grant, or one the policy does not let this caller see, is `inactive`.
    public func introspect(token: String, callerToken: String) throws(LatchError) -> Introspection {
        guard let keys = self.keys else { throw LatchError(.noActiveKey, "the token endpoint is not ready") }
        let now = self.clock.now().milliseconds
        let caller = try keys.svidValidator.validate(callerToken, audience: keys.issuer, now: now).spiffeID
        guard let grant = try? keys.verifier.decode(token, now: now), !self.revocations.isRevoked(grant) else { return .inactive }
        // A caller the policy refuses learns nothing, not even that the grant is valid (RFC 7662 §4).
        guard self.decider.decide(.introspect(caller: caller, grant: grant)).allowed else { return .inactive }
        return .active(grant)
    }

    // MARK: Quarantine

    /// Quarantines an agent: in force on this node at once, then written to the store (when
    /// there is one). Returns whether the store holds it; a failed write leaves it in force here
    /// (fail closed) and is the caller's to log.
    @discardableResult
    public func quarantine(_ quarantine: AgentQuarantine) async throws -> Bool {
        self.quarantines.quarantine(quarantine, saved: false)
        guard let store = self.quarantineStore else { return false }
        _ = try await store.quarantineAgent(quarantine)
        self.quarantines.saved(quarantine.agent)
        return true
    }

    /// Loads the quarantines in force from the store (other nodes', `latch quarantine`'s, and
    /// releases); returns how many are in force.
    @discardableResult
    public func syncQuarantines() async throws -> Int {
        guard let store = self.quarantineStore else { return self.quarantines.inForce.count }
        let generation = self.quarantines.generation
        let inForce = try await store.quarantines(inForceOnly: true)
        self.quarantines.replace(with: inForce, readAt: generation)
        return inForce.count
    }

    // MARK: Store upkeep

    /// Loads revocations recorded since the last call (by this or another node, or `latch grant
    /// revoke`) into the index when the store's revocation counter moved; returns how many. The
    /// first call loads every revocation still in force; later ones only those of the revisions
    /// not seen yet, so a busy store is not read whole on every poll.
    @discardableResult
    public func syncRevocations() async throws -> Int {
        let revision = try await self.repository.revocationsRevision()
        let seen = self.revisionSeen.withLock { $0 }
        guard seen != revision else { return 0 }
        let loaded: [GrantRevocation]
        if let seen {
            loaded = try await self.repository.revocations(afterRevision: seen)
        } else {
            // Grants are accepted up to the clock skew past their expiry; so are their revocations kept.
            let skew = self.keys?.verifier.clockSkew ?? 30_000
            loaded = try await self.repository.revocations(notExpiredAt: self.clock.now().milliseconds - skew)
        }
        for revocation in loaded { self.revocations.revoke(revocation.grantID, expiresAt: revocation.expiresAt) }
        // Revisions read after `revision` may have been loaded too (harmless: revoking is idempotent).
        self.revisionSeen.withLock { $0 = revision }
        return loaded.count
    }

    /// Deletes rows and index entries of grants expired longer than the clock skew; returns the rows.
    @discardableResult
    public func sweep() async throws -> Int {
        let before = self.clock.now().milliseconds - (self.keys?.verifier.clockSkew ?? 30_000)
        self.revocations.sweep(before: before)
        return try await self.repository.deleteExpiredGrants(before: before)
    }

    // MARK: Helpers

    static func describe(_ decision: GrantDecision) -> String {
        var text = ""
        if !decision.policies.isEmpty { text += " (policies: \(decision.policies.joined(separator: ", ")))" }
        if !decision.errors.isEmpty { text += " (policies in error: \(decision.errors.joined(separator: ", ")))" }
        return text
    }
}

