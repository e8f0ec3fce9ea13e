import Crypto
import Foundation
import LatchCore
import LatchIdentity
import LatchTesting
import Synchronization
import Testing

@testable import LatchGrants

/// The token endpoint's logic without HTTP: exchanges, delegation, decisions, durability,
/// revocation across nodes, completion and introspection, over the in-memory store.
@Suite("GrantAuthority: token exchange, revocation, completion, introspection")
struct GrantAuthorityTests {
    static let issuer = "https://latch.test"
    static let endpoint = DPoPRequest(method: "POST", uri: issuer + "/token")
    static let planner = DelegationTests.planner
    static let researcher = DelegationTests.researcher

    /// Allows what `rule` says; records every question.
    final class Decider: GrantDecider, Sendable {
        let rule: @Sendable (GrantQuestion) -> Bool
        init(_ rule: @escaping @Sendable (GrantQuestion) -> Bool = { _ in true }) { self.rule = rule }
        func decide(_ question: GrantQuestion) -> GrantDecision {
            GrantDecision(allowed: self.rule(question), policies: ["test-policy"])
        }
    }

    /// A store whose grant writes fail (an outage), everything else in memory.
    final class FailingStore: GrantRepository, Sendable {
        let inner = InMemoryIdentityStore()
        struct Outage: Error {}
        func saveGrants(_ records: [GrantRecord]) async throws { throw Outage() }
        func grant(id: String) async throws -> TaskGrant? { try await self.inner.grant(id: id) }
        func grants(taskID: String) async throws -> [TaskGrant] { try await self.inner.grants(taskID: taskID) }
        func listGrants(activeAt: Int64?, limit: Int) async throws -> [TaskGrant] { try await self.inner.listGrants(activeAt: activeAt, limit: limit) }
        func task(id: String) async throws -> GrantTask? { try await self.inner.task(id: id) }
        func revoke(_ revocations: [GrantRevocation]) async throws -> [GrantRevocation] { try await self.inner.revoke(revocations) }
        func revocation(grantID: String) async throws -> GrantRevocation? { try await self.inner.revocation(grantID: grantID) }
        func revocations(notExpiredAt now: Int64) async throws -> [GrantRevocation] { try await self.inner.revocations(notExpiredAt: now) }
        func revocations(afterRevision revision: Int64) async throws -> [GrantRevocation] {
            try await self.inner.revocations(afterRevision: revision)
        }
        func revocationsRevision() async throws -> Int64 { try await self.inner.revocationsRevision() }
        func deleteExpiredGrants(before: Int64) async throws -> Int { try await self.inner.deleteExpiredGrants(before: before) }
    }

    struct Fixture {
        let clock = TestWallClock()
        let store: any GrantRepository
        let authority: GrantAuthority
        let key = GrantTokenTests.key
        let agentKey = P256.Signing.PrivateKey()

        init(store: any GrantRepository = InMemoryIdentityStore(), decider: any GrantDecider = Decider(), quarantines: (any QuarantineRepository)? = nil) {
            self.store = store
            self.clock.set(UnixTime(milliseconds: ProofBuilder.now))
            self.authority = GrantAuthority(
                settings: GrantSettings(), repository: store, decider: decider, clock: self.clock, quarantineStore: quarantines)
            self.authority.setKeys(
                issuer: GrantAuthorityTests.issuer, signingKey: self.key,
                svidValidator: JWTSVIDValidator(trustDomain: TrustDomain(unchecked: "latch.test"), keys: [self.key.keyID: self.key.publicKey]))
        }

        func svid(_ id: SPIFFEID, audience: String = GrantAuthorityTests.issuer) throws -> Redacted<String> {
            Redacted(try JWTSVIDMinter.sign(spiffeID: id, audience: [audience], ttl: 300_000, now: ProofBuilder.now, key: self.key).token)
        }

        /// A token-endpoint proof by `key`, bound to `token` when given.
        func proof(_ key: P256.Signing.PrivateKey, token: String? = nil, uri: String = GrantAuthorityTests.endpoint.uri) throws -> String {
            var builder = ProofBuilder(jti: UUID().uuidString, uri: uri)
            builder.key = key
            builder.header["jwk"] = ProofBuilder.jwk(key.publicKey)
            if let token { builder.claims["ath"] = .string(Base64URL.encode(Array(SHA256.hash(data: Array(token.utf8))))) }
            return try builder.build()
        }

        func request(_ subject: SPIFFEID = GrantAuthorityTests.planner, scope: String = "tool:search tool:read domain:tickets sensitivity:internal")
            throws -> TokenExchangeRequest
        {
            try TokenExchangeRequest(form: [
                ("grant_type", TokenExchangeRequest.grantType), ("subject_token", try self.svid(subject).unredacted),
                ("subject_token_type", TokenExchangeRequest.jwtTokenType), ("scope", scope), ("intent", "triage tickets"),
            ])
        }

        func issue() async throws -> IssuedGrant {
            try await self.authority.exchange(try self.request(), proof: try self.proof(self.agentKey), proofTarget: GrantAuthorityTests.endpoint)
        }

        func delegate(_ parent: IssuedGrant, to actor: SPIFFEID, actorKey: P256.Signing.PrivateKey, signer: P256.Signing.PrivateKey? = nil,
                      scope: String? = nil) async throws -> IssuedGrant {
            // The actor sends it: its own proof in the header, the parent holder's over the parent grant.
            var form: [(name: String, value: String)] = [
                ("grant_type", TokenExchangeRequest.grantType), ("subject_token", parent.token),
                ("subject_token_type", TokenExchangeRequest.accessTokenType), ("actor_token", try self.svid(actor).unredacted),
                ("actor_token_type", TokenExchangeRequest.jwtTokenType),
                ("subject_token_dpop", try self.proof(signer ?? self.agentKey, token: parent.token)),
            ]
            if let scope { form.append(("scope", scope)) }
            return try await self.authority.exchange(
                try TokenExchangeRequest(form: form), proof: try self.proof(actorKey), proofTarget: GrantAuthorityTests.endpoint)
        }
    }

    @Test("a JWT-SVID and a DPoP proof get a stored, key-bound task grant with the default lifetime")
    func issues() async throws {
        let f = Fixture()
        let issued = try await f.issue()
        let grant = issued.grant
        #expect(grant.subject == Self.planner && grant.holder == Self.planner && grant.depth == 0)
        #expect(grant.keyThumbprint == CAKey.thumbprint(of: f.agentKey.publicKey))
        #expect(grant.expiresAt - grant.issuedAt == 300_000 && grant.issuedAt % 1000 == 0)
        #expect(grant.audience == ["latch-gateway"] && grant.intent == "triage tickets")
        #expect(grant.scope.tools == ["search", "read"] && grant.scope.maxSensitivity == .internal)
        #expect(try f.authority.keys?.verifier.decode(issued.token, now: ProofBuilder.now) == grant)
        // Durable before it was returned.
        #expect(try await f.store.grant(id: grant.id) == grant)
        #expect(try await f.store.task(id: grant.taskID)?.rootGrantID == grant.id)
    }

    @Test(
        "refusals name what is wrong and issue nothing",
        arguments: [
            ("no proof", OAuthError.invalidDPoPProof, "required"),
            ("proof for another URI", .invalidDPoPProof, "htu"),
            ("dpop_jkt of another key", .invalidRequest, "dpop_jkt"),
            ("SVID for another audience", .invalidRequest, "subject_token"),
            ("lifetime over the maximum", .invalidRequest, "maximum of 3600 s"),
            ("no intent", .invalidRequest, "intent is required"),
            ("an audience not configured", .invalidTarget, "not issued for audience \"billing\""),
            ("denied by policy", .invalidScope, "denied by policy (policies: test-policy)"),
        ])
    func refusals(_ name: String, _ code: OAuthError, _ words: String) async throws {
        let f = Fixture(decider: Decider { _ in name != "denied by policy" })
        var request = try f.request()
        var proof: String? = try f.proof(f.agentKey)
        switch name {
        case "no proof": proof = nil
        case "proof for another URI": proof = try f.proof(f.agentKey, uri: Self.issuer + "/revoke")
        case "dpop_jkt of another key": request.keyThumbprint = CAKey.thumbprint(of: P256.Signing.PrivateKey().publicKey)
        case "SVID for another audience": request.subjectToken = try f.svid(Self.planner, audience: "someone-else")
        case "lifetime over the maximum": request.requestedLifetime = 7_200_000
        case "no intent": request.intent = nil
        case "an audience not configured": request.audience = ["latch-gateway", "billing"]
        default: break
        }
        do {
            _ = try await f.authority.exchange(request, proof: proof, proofTarget: Self.endpoint)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == code, "\(name): \(error)")
            #expect(error.description.contains(words), "\(name): \(error.description)")
        }
        #expect(try await f.store.listGrants(activeAt: nil, limit: 10).isEmpty)
    }

    @Test("a federated token's subject comes from the resolver; without federation, or when it fails, the request is refused")
    func federatedSubject() async throws {
        let plain = Fixture()
        var request = try plain.request()
        request.subjectKind = .federatedToken
        request.subjectToken = Redacted("header.claims.signature")
        await #expect(throws: TokenExchangeError(.invalidRequest, "no federated issuers are configured: subject_token must be a JWT-SVID")) {
            try await plain.authority.exchange(request, proof: try plain.proof(plain.agentKey), proofTarget: Self.endpoint)
        }
        let clock = TestWallClock(UnixTime(milliseconds: ProofBuilder.now))
        let authority = GrantAuthority(
            settings: GrantSettings(), repository: InMemoryIdentityStore(), decider: Decider(), clock: clock,
            federatedSubject: { token, _ in
                guard token == "header.claims.signature" else { throw LatchError(.badSignature, "the signature does not verify") }
                return Self.researcher
            })
        authority.setKeys(issuer: Self.issuer, signingKey: plain.key, svidValidator: try #require(plain.authority.keys).svidValidator)
        let issued = try await authority.exchange(request, proof: try plain.proof(plain.agentKey), proofTarget: Self.endpoint)
        #expect(issued.grant.subject == Self.researcher)
        request.subjectToken = Redacted("forged.claims.signature")
        do {
            _ = try await authority.exchange(request, proof: try plain.proof(plain.agentKey), proofTarget: Self.endpoint)
            Issue.record("a token the resolver refused was accepted")
        } catch let error as TokenExchangeError {
            #expect(error.code == .invalidRequest && error.description.contains("signature does not verify"))
        }
    }

    @Test("a store outage issues nothing: server_error, and the signed token is never returned")
    func storeOutage() async throws {
        let f = Fixture(store: FailingStore())
        await #expect(throws: TokenExchangeError(.serverError, "the grant could not be stored; nothing was issued")) { try await f.issue() }
    }

    @Test("delegation needs the parent holder's proof; the child is bound to the actor's proof key, narrows, is stored, and the policy sees both")
    func delegation() async throws {
        let asked = Mutex<[String]>([])
        let f = Fixture(
            decider: Decider { question in
                if case .delegate(let parent, let child) = question { asked.withLock { $0.append(parent.id + ">" + child.holder.description) } }
                return true
            })
        let root = try await f.issue()
        let actorKey = P256.Signing.PrivateKey()
        let child = try await f.delegate(root, to: Self.researcher, actorKey: actorKey, scope: "tool:search domain:tickets")
        #expect(child.grant.actors == [Self.researcher] && child.grant.ancestors == [root.grant.id] && child.grant.depth == 1)
        #expect(child.grant.keyThumbprint == CAKey.thumbprint(of: actorKey.publicKey))
        #expect(child.grant.scope.tools == ["search"] && child.grant.scope.maxSensitivity == .public)
        #expect(child.grant.expiresAt == root.grant.expiresAt)
        #expect(asked.withLock { $0 } == [root.grant.id + ">" + Self.researcher.description])
        #expect(try await f.store.grants(taskID: root.grant.taskID).map(\.id) == [root.grant.id, child.grant.id])

        // Someone holding a copy of the grant but not its key cannot hand it on.
        await #expect(throws: TokenExchangeError.self) {
            try await f.delegate(root, to: Self.researcher, actorKey: actorKey, signer: actorKey)
        }
        do {
            _ = try await f.delegate(root, to: Self.researcher, actorKey: actorKey, scope: "tool:search tool:delete domain:tickets")
            Issue.record("a wider scope was delegated")
        } catch let error as TokenExchangeError {
            #expect(error.code == .invalidScope && error.description.contains("delete"))
        }
    }

    /// The exchange's refusal, or nil when it issued.
    static func refusal(_ exchange: () async throws -> IssuedGrant) async -> TokenExchangeError? {
        do {
            _ = try await exchange()
            return nil
        } catch let error as TokenExchangeError {
            return error
        } catch {
            Issue.record("not a TokenExchangeError: \(error)")
            return nil
        }
    }

    @Test("a quarantined agent gets no grant: not for itself, not as an actor, and none handed on from a grant it holds; released, it does again")
    func quarantine() async throws {
        let store = InMemoryIdentityStore()
        let f = Fixture(store: store, quarantines: store)
        let root = try await f.issue()
        let actorKey = P256.Signing.PrivateKey()
        #expect(f.authority.quarantines.quarantine(of: root.grant) == nil)

        #expect(try await f.authority.quarantine(AgentQuarantine(agent: Self.researcher, reason: "chain_anomaly", by: "guard", since: ProofBuilder.now)))
        let asActor = await Self.refusal { try await f.delegate(root, to: Self.researcher, actorKey: actorKey) }
        #expect(asActor?.code == .unauthorizedClient && asActor?.description.contains("agent_quarantined") == true, "\(String(describing: asActor))")
        #expect(try await store.quarantine(agent: Self.researcher)?.by == "guard", "written to the store")

        _ = try await f.authority.quarantine(AgentQuarantine(agent: Self.planner, reason: "rate_limit", by: "alice", since: ProofBuilder.now))
        let own = await Self.refusal { try await f.issue() }
        #expect(own?.code == .unauthorizedClient && own?.description.contains("rate_limit") == true)
        #expect(f.authority.quarantines.quarantine(of: root.grant)?.agent == Self.planner, "the grants it holds are marked for the gateway")
        let other = try SPIFFEID(parsing: "spiffe://latch.test/agents/other")
        let handedOn = await Self.refusal { try await f.delegate(root, to: other, actorKey: actorKey) }
        #expect(handedOn?.description.contains("agent_quarantined") == true)
        #expect(try await store.grants(taskID: root.grant.taskID).count == 1, "nothing was issued")

        // Another node (or `latch quarantine release`) releases the planner in the store: the next sync lets it back in.
        #expect(try await store.releaseAgent(Self.planner, by: "alice", note: nil, now: ProofBuilder.now + 1) != nil)
        #expect(try await f.authority.syncQuarantines() == 1)
        let again = try await f.issue()
        #expect(f.authority.quarantines.quarantine(of: again.grant) == nil)
        #expect(await Self.refusal { try await f.delegate(again, to: Self.researcher, actorKey: actorKey) }?.code == .unauthorizedClient)
    }

    @Test("a quarantine whose store write failed stays in force across syncs; one put in force while a sync read is never dropped by it")
    func quarantineIndex() throws {
        let index = QuarantineIndex()
        let agent = try SPIFFEID(parsing: "spiffe://latch.test/agents/a")
        let other = try SPIFFEID(parsing: "spiffe://latch.test/agents/b")
        let stored = AgentQuarantine(agent: other, reason: "operator", by: "alice", since: 1)
        index.quarantine(AgentQuarantine(agent: agent, reason: "chain_anomaly", by: "guard", since: 2), saved: false)
        index.replace(with: [stored], readAt: index.generation)
        #expect(index.quarantine(of: agent) != nil && index.quarantine(of: other) != nil, "unsaved: kept")
        index.saved(agent)
        index.replace(with: [], readAt: index.generation)
        #expect(index.quarantine(of: agent) == nil && index.quarantine(of: other) == nil, "saved, then released in the store")
        let before = index.generation
        index.quarantine(AgentQuarantine(agent: agent, reason: "chain_anomaly", by: "guard", since: 3), saved: true)
        index.replace(with: [stored], readAt: before)
        #expect(index.quarantine(of: agent) != nil && index.quarantine(of: other) != nil, "the read may have missed it: only added to")
    }

    /// Refuses every delegation with `reason`, counting what it saw.
    final class RefusingGuard: DelegationGuard, Sendable {
        let seen = Mutex<[String]>([])
        func screen(delegation: TaskGrant, parentID: String, now: Int64) async -> DelegationRefusal? {
            self.seen.withLock { $0.append(parentID + ">" + delegation.holder.description) }
            return DelegationRefusal(reason: "fanout_cap", message: "too many")
        }
    }

    @Test("a delegation guard sees what policy allowed and its refusal refuses the exchange with its reason; nothing is issued")
    func delegationGuard() async throws {
        let f = Fixture()
        let root = try await f.issue()
        let screen = RefusingGuard()
        f.authority.setDelegationGuard(screen)
        let refused = await Self.refusal { try await f.delegate(root, to: Self.researcher, actorKey: P256.Signing.PrivateKey()) }
        #expect(refused?.code == .invalidRequest && refused?.description == "fanout_cap: too many")
        #expect(screen.seen.withLock { $0 } == [root.grant.id + ">" + Self.researcher.description])
        #expect(try await f.store.grants(taskID: root.grant.taskID).count == 1)
        f.authority.setDelegationGuard(nil)
        #expect(try await f.delegate(root, to: Self.researcher, actorKey: P256.Signing.PrivateKey()).grant.depth == 1)
    }

    @Test("a policy that refuses delegation answers unauthorized_client")
    func delegationDenied() async throws {
        let f = Fixture(decider: Decider { if case .delegate = $0 { false } else { true } })
        let root = try await f.issue()
        do {
            _ = try await f.delegate(root, to: Self.researcher, actorKey: P256.Signing.PrivateKey())
            Issue.record("delegation was allowed")
        } catch let error as TokenExchangeError {
            #expect(error.code == .unauthorizedClient && error.description.contains("denied by policy"))
        }
    }

    @Test("revoking or completing a root takes its whole tree down here at once, and on another node after a sync")
    func revocationAndCompletion() async throws {
        let store = InMemoryIdentityStore()
        let f = Fixture(store: store)
        let other = Fixture(store: store)  // a second node on the same store
        let root = try await f.issue()
        let child = try await f.delegate(root, to: Self.researcher, actorKey: P256.Signing.PrivateKey())
        #expect(try await other.authority.syncRevocations() == 0)

        let revocation = try #require(try await f.authority.revoke(token: root.token))
        #expect(revocation.grantID == root.grant.id && revocation.reason == .revoked)
        #expect(f.authority.revocations.isRevoked(child.grant))
        #expect(!other.authority.revocations.isRevoked(child.grant))
        #expect(try await other.authority.syncRevocations() == 1)
        #expect(other.authority.revocations.isRevoked(child.grant))
        #expect(try await f.authority.revoke(token: "not a grant") == nil)

        // Completion: the holder proves its key; the task ends.
        let second = try await f.issue()
        let completeTarget = DPoPRequest(method: "POST", uri: Self.issuer + "/complete")
        await #expect(throws: LatchError.self) {
            try await f.authority.complete(
                token: second.token, proof: try f.proof(P256.Signing.PrivateKey(), token: second.token, uri: completeTarget.uri),
                request: completeTarget)
        }
        let done = try await f.authority.complete(
            token: second.token, proof: try f.proof(f.agentKey, token: second.token, uri: completeTarget.uri), request: completeTarget)
        #expect(done.id == second.grant.id)
        #expect(try await store.task(id: second.grant.taskID)?.endReason == .completed)
        #expect(try await store.revocation(grantID: second.grant.id)?.reason == .completed)
    }

    @Test("introspection: an authenticated caller the policy allows sees the claims; to others and once revoked it is inactive")
    func introspection() async throws {
        let f = Fixture(decider: Decider { question in
            if case .introspect(let caller, let grant) = question { return caller == grant.subject }
            return true
        })
        let root = try await f.issue()
        guard case .active(let seen) = try f.authority.introspect(token: root.token, callerToken: try f.svid(Self.planner).unredacted) else {
            Issue.record("inactive")
            return
        }
        #expect(seen == root.grant)
        guard case .inactive = try f.authority.introspect(token: root.token, callerToken: try f.svid(Self.researcher).unredacted) else {
            Issue.record("a caller the policy refuses saw the grant")
            return
        }
        #expect(throws: LatchError.self) { try f.authority.introspect(token: root.token, callerToken: "garbage") }
        _ = try await f.authority.revoke(token: root.token)
        guard case .inactive = try f.authority.introspect(token: root.token, callerToken: try f.svid(Self.planner).unredacted) else {
            Issue.record("a revoked grant is active")
            return
        }
    }

    @Test("the sweeper deletes expired grants, tasks and revocations")
    func sweep() async throws {
        let f = Fixture()
        let root = try await f.issue()
        _ = try await f.authority.revoke(token: root.token)
        f.clock.advance(seconds: 301)
        #expect(try await f.authority.sweep() == 0, "within the clock skew nothing goes")
        f.clock.advance(seconds: 60)
        #expect(try await f.authority.sweep() == 2, "the grant and its revocation (the task goes with its root)")
        #expect(try await f.store.grant(id: root.grant.id) == nil)
        #expect(f.authority.revocations.count == 0)
    }
}
