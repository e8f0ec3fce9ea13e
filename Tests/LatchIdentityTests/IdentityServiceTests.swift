import LatchCore
import LatchTesting
import Testing

@testable import LatchIdentity

@Suite("IdentityService")
struct IdentityServiceTests {
    let clock = TestWallClock(UnixTime(milliseconds: TestKeys.epoch))
    let store = InMemoryIdentityStore()
    let hour: Int64 = 3_600_000

    func service(kek: KeyEncryptionKey = TestKeys.kek) -> IdentityService {
        let config = IdentityConfiguration(
            trustDomain: TestKeys.trustDomain,
            x509Rotation: KeyRotationPolicy(keyLifetime: 24 * self.hour, publishLead: self.hour),
            jwtRotation: KeyRotationPolicy(keyLifetime: 24 * self.hour, publishLead: self.hour))
        return IdentityService(configuration: config, store: self.store, sealer: KeySealer(kek: kek), clock: self.clock)
    }

    func entry(_ path: String, _ selectors: [String]) throws -> RegistrationEntry {
        RegistrationEntry(
            id: path, spiffeID: try SPIFFEID(parsing: "spiffe://example.org" + path),
            selectors: try selectors.map { try Selector(parsing: $0) }, x509SVIDTTL: 3600, jwtSVIDTTL: 300,
            createdAt: TestKeys.epoch)
    }

    @Test("the first tick creates, publishes and activates one key of each purpose")
    func bootstrap() async throws {
        let service = self.service()
        try await service.tick()
        for purpose in KeyPurpose.allCases {
            let keys = try await self.store.keys(purpose: purpose)
            #expect(keys.map(\.state) == [.active])
        }
        let bundle = await service.bundle()
        #expect(bundle.x509Authorities.count == 1 && bundle.jwtAuthorities.count == 1)
        #expect(try await service.tick().isEmpty)
    }

    @Test("selectors → matching entries → X.509- and JWT-SVIDs; no match gives none")
    func mintForSelectors() async throws {
        let service = self.service()
        try await service.tick()
        try await self.store.createEntry(try self.entry("/billing", ["unix:uid:1000"]))
        try await self.store.createEntry(try self.entry("/admin", ["unix:uid:0"]))
        let presented = try ["unix:uid:1000", "unix:gid:1000"].map { try Selector(parsing: $0) }
        let x509 = try await service.mintX509SVIDs(for: presented)
        #expect(x509.map(\.spiffeID.description) == ["spiffe://example.org/billing"])
        let bundle = await service.bundle()
        _ = try X509SVIDValidator.validate(
            leafDER: x509[0].certificateDER, authorities: bundle.x509Authorities.map(\.certificate),
            now: self.clock.now().milliseconds)
        let jwt = try await service.mintJWTSVIDs(for: presented, audience: ["svc"])
        #expect(jwt.count == 1)
        let validated = try await service.validateJWTSVID(jwt[0].token.unredacted, audience: "svc")
        #expect(validated.spiffeID.description == "spiffe://example.org/billing")
        #expect(try await service.mintX509SVIDs(for: [try Selector(parsing: "unix:uid:5")]).isEmpty)
    }

    @Test("rotation: next key published before use; old tokens verify until they expire; retired keys deleted")
    func rotation() async throws {
        let service = self.service()
        try await service.tick()
        let id = try SPIFFEID(parsing: "spiffe://example.org/agent")
        let firstKey = try #require(await service.activeKey(.jwtSigning))
        let firstCA = try #require(await service.activeKey(.x509Authority))
        let sequence0 = await service.bundleSequence

        // 12 h: the next keys are prepared, then published (in the bundle, not signing).
        self.clock.advance(milliseconds: 12 * self.hour)
        try await service.tick()
        try await service.tick()
        #expect(await service.bundle().jwtAuthorities.count == 2)
        #expect(await service.activeKey(.jwtSigning)?.keyID == firstKey.keyID)
        #expect(await service.bundleSequence > sequence0)

        // A token minted by the first key 30 s before the switch…
        self.clock.advance(milliseconds: 6 * self.hour - 30_000)
        let oldToken = try await service.mintJWTSVID(spiffeID: id, audience: ["svc"], ttl: 300_000)
        let oldSVID = try await service.mintX509SVID(for: try self.entry("/agent", ["unix:uid:1"]))
        #expect(oldToken.keyID == firstKey.keyID)
        // …18 h: the published key becomes active, the old one retired but still published.
        self.clock.advance(milliseconds: 30_000)
        try await service.tick()
        let secondKey = try #require(await service.activeKey(.jwtSigning))
        #expect(secondKey.keyID != firstKey.keyID)
        #expect(try await service.validateJWTSVID(oldToken.token.unredacted, audience: "svc").keyID == firstKey.keyID)
        let newToken = try await service.mintJWTSVID(spiffeID: id, audience: ["svc"], ttl: 300_000)
        #expect(newToken.keyID == secondKey.keyID)
        // The new X.509-SVID comes from the new CA while the old one is still valid.
        let newSVID = try await service.mintX509SVID(for: try self.entry("/agent", ["unix:uid:1"]))
        #expect(newSVID.issuerKeyID != firstCA.keyID && newSVID.notBefore < oldSVID.notAfter)
        let bundle = await service.bundle()
        _ = try X509SVIDValidator.validate(
            leafDER: oldSVID.certificateDER, authorities: bundle.x509Authorities.map(\.certificate),
            now: self.clock.now().milliseconds)

        // After the old key's notAfter it is deleted from the store and the bundle.
        self.clock.advance(milliseconds: 6 * self.hour + 1000)
        try await service.tick()
        let jwtKeys = try await self.store.keys(purpose: .jwtSigning)
        #expect(!jwtKeys.contains { $0.keyID == firstKey.keyID })
        #expect(await !service.bundle().jwtAuthorities.contains { $0.keyID == firstKey.keyID })
    }

    @Test("a restarted service loads the sealed keys; another KEK cannot")
    func restart() async throws {
        try await self.service().tick()
        let again = self.service()
        try await again.reload()
        #expect(await again.activeKey(.jwtSigning) != nil)
        await #expect(throws: LatchError(.unsealFailed, "")) { try await self.service(kek: .generate()).reload() }
    }

    /// Rotation steps from bootstrap through publish, activate and delete (hours since start).
    static let rotationSteps: [Int64] = [0, 12, 12, 18, 18, 25, 25]

    @Test("the bundle sequence is the store's: a restarted service starts where the last one was, and it never goes back")
    func sequenceSurvivesRestart() async throws {
        var last: (sequence: Int64, authorities: [String])?
        for hours in Self.rotationSteps {
            self.clock.set(UnixTime(milliseconds: TestKeys.epoch + hours * self.hour))
            let service = self.service()
            try await service.tick()
            let sequence = await service.bundleSequence
            let bundle = await service.bundle()
            #expect(bundle.sequence == sequence)
            #expect(sequence == (try await self.store.keysRevision()))
            let restarted = self.service()
            try await restarted.reload()
            #expect(await restarted.bundleSequence == sequence, "at \(hours) h")
            #expect(await restarted.bundle().spiffeBundle.serialized == bundle.spiffeBundle.serialized, "at \(hours) h")
            let authorities = bundle.x509Authorities.map { "x509:" + $0.keyID } + bundle.jwtAuthorities.map { "jwt:" + $0.keyID }
            if let last {
                #expect(sequence >= last.sequence, "at \(hours) h")
                if authorities != last.authorities { #expect(sequence > last.sequence, "the authorities changed at \(hours) h") }
            }
            last = (sequence, authorities)
        }
    }

    @Test("two services over one store publish the same sequence for the same keys after one of them rotates")
    func sequenceSharedAcrossNodes() async throws {
        let first = self.service()
        let second = self.service()
        var sequences: [Int64] = []
        for hours in Self.rotationSteps {
            self.clock.set(UnixTime(milliseconds: TestKeys.epoch + hours * self.hour))
            try await first.tick()
            try await second.reload()
            let sequence = await first.bundleSequence
            #expect(await second.bundleSequence == sequence, "at \(hours) h")
            #expect(await second.bundle().spiffeBundle.serialized == (await first.bundle().spiffeBundle.serialized), "at \(hours) h")
            sequences.append(sequence)
        }
        #expect(sequences == sequences.sorted())
        #expect(Set(sequences).count > 3, "the rotation changed the bundle several times: \(sequences)")
    }

    @Test("minting before any key exists is an error, not a crash")
    func noKeys() async throws {
        let service = self.service()
        await #expect(throws: LatchError(.noActiveKey, "")) {
            try await service.mintJWTSVID(spiffeID: try SPIFFEID(parsing: "spiffe://example.org/a"), audience: ["x"], ttl: 1000)
        }
    }
}
