import Crypto
import Foundation
import GRPCCore
import LatchCore
import LatchIdentity
import LatchTesting
import LatchWorkloadProto
import SwiftProtobuf
import Synchronization
import Testing
import X509

@testable import LatchServer

@Suite("Workload API over the unix socket")
struct WorkloadAPITests {
    typealias Harness = WorkloadAPIHarness

    @Test("FetchX509SVID sends a verifiable SVID for the caller's own uid, with its key and the bundle")
    func x509SVID() async throws {
        let harness = Harness()
        let entry = try harness.entryForThisProcess("/agents/x509")
        try await harness.store.createEntry(entry)
        try await harness.run { client, state in
            let first = try await client.fetchX509SVID(Workload_X509SVIDRequest(), metadata: Harness.header) { response in
                for try await message in response.messages { return Optional(message) }
                return nil
            }
            let message = try #require(first)
            let svid = try #require(message.svids.first)
            #expect(message.svids.count == 1)
            #expect(svid.spiffeID == entry.spiffeID.description)
            let authorities = state.snapshot.bundle.x509Authorities.map(\.certificate)
            let checked = try X509SVIDValidator.validate(
                leafDER: Array(svid.x509Svid), authorities: authorities, now: harness.clock.now().milliseconds)
            #expect(checked.spiffeID == entry.spiffeID)
            let key = try P256.Signing.PrivateKey(derRepresentation: svid.x509SvidKey)
            #expect(checked.certificate.publicKey == Certificate.PublicKey(key.publicKey))
            #expect(Array(svid.bundle) == state.snapshot.bundle.x509BundleDER)
        }
    }

    @Test("without the workload.spiffe.io header every RPC is INVALID_ARGUMENT")
    func missingHeader() async throws {
        let harness = Harness()
        try await harness.store.createEntry(try harness.entryForThisProcess("/agents/header"))
        try await harness.run { client, _ in
            var jwt = Workload_JWTSVIDRequest()
            jwt.audience = ["a"]
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(jwt) } == .invalidArgument)
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(jwt, metadata: ["workload.spiffe.io": "false"]) } == .invalidArgument)
            #expect(
                await RPCError.Code.of {
                    try await client.fetchX509SVID(Workload_X509SVIDRequest()) { response in for try await _ in response.messages { break } }
                } == .invalidArgument)
            // A valid token, so the missing header is the only thing wrong.
            let token = try await client.fetchJWTSVID(jwt, metadata: Harness.header).svids[0].svid
            var validate = Workload_ValidateJWTSVIDRequest()
            validate.audience = "a"
            validate.svid = token
            #expect(try await client.validateJWTSVID(validate, metadata: Harness.header).spiffeID.isEmpty == false)
            #expect(await RPCError.Code.of { _ = try await client.validateJWTSVID(validate) } == .invalidArgument)
        }
    }

    /// An entry for another uid than this test process's.
    static func entry(forUID uid: UInt32) throws -> RegistrationEntry {
        RegistrationEntry(
            id: "other", spiffeID: try SPIFFEID(parsing: "spiffe://example.org/other"), selectors: [Selector(type: "unix", value: "uid:\(uid)")],
            x509SVIDTTL: 60, jwtSVIDTTL: 60, createdAt: 0)
    }

    /// A uid that is not this process's.
    static let otherUID: UInt32 = getuid() == 4242 ? 4243 : 4242
    /// The required header plus a forged reserved header claiming ``otherUID``.
    static var forgedUIDHeader: Metadata {
        var forged = Harness.header
        forged.addString("\(Self.otherUID)", forKey: "x-latch-peer-uid")
        return forged
    }
    static var jwtRequest: Workload_JWTSVIDRequest {
        var request = Workload_JWTSVIDRequest()
        request.audience = ["a"]
        return request
    }

    @Test("a caller matching no entry gets PERMISSION_DENIED; forged peer metadata does not help")
    func noEntry() async throws {
        let harness = Harness()
        // Registered for another uid only; the client claims that uid in the reserved headers.
        try await harness.store.createEntry(try Self.entry(forUID: Self.otherUID))
        try await harness.run { client, _ in
            let jwt = Self.jwtRequest
            // Only the uid is forged (no token), so nothing but the injector's stripping stands
            // between this header and the other uid's identity.
            let forged = Self.forgedUIDHeader
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(jwt, metadata: Harness.header) } == .permissionDenied)
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(jwt, metadata: forged) } == .permissionDenied)
            for request in [Workload_X509SVIDRequest()] {
                #expect(
                    await RPCError.Code.of {
                        try await client.fetchX509SVID(request, metadata: forged) { response in for try await _ in response.messages { break } }
                    } == .permissionDenied)
            }
            #expect(
                await RPCError.Code.of {
                    try await client.fetchJWTBundles(Workload_JWTBundlesRequest(), metadata: Harness.header) { response in
                        for try await _ in response.messages { break }
                    }
                } == .permissionDenied)
        }
    }

    @Test("a registered caller forging another uid still gets only its own identity")
    func forgedUIDKeepsOwnIdentity() async throws {
        let harness = Harness()
        let own = try harness.entryForThisProcess("/agents/own")
        try await harness.store.createEntry(own)
        try await harness.store.createEntry(try Self.entry(forUID: Self.otherUID))
        try await harness.run { client, _ in
            var forged = Self.forgedUIDHeader
            forged.addString("1", forKey: "x-latch-peer-pid")
            let response = try await client.fetchJWTSVID(Self.jwtRequest, metadata: forged)
            #expect(response.svids.map(\.spiffeID) == [own.spiffeID.description])
        }
    }

    @Test("a FetchX509SVID stream the client cancels ends on the server")
    func streamEndsOnCancel() async throws {
        let harness = Harness()
        try await harness.store.createEntry(try harness.entryForThisProcess("/agents/cancel"))
        try await harness.run { client, state in
            for _ in 0..<5 {
                let count = try await client.fetchX509SVID(Workload_X509SVIDRequest(), metadata: Harness.header) { response in
                    for try await message in response.messages { return message.svids.count }
                    return 0
                }
                #expect(count == 1)
            }
            // A handler counts itself open before its first message, so all five were counted
            // before their clients cancelled; none may linger.
            var open = state.openStreams.load(ordering: .relaxed)
            for _ in 0..<250 where open > 0 {
                try await Task.sleep(for: .milliseconds(20))
                open = state.openStreams.load(ordering: .relaxed)
            }
            #expect(open == 0, "\(open) stream handlers still running after their clients cancelled")
            #expect(state.waiting == 0)
        }
    }

    @Test("FetchJWTSVID and ValidateJWTSVID round-trip; bad requests get INVALID_ARGUMENT or PERMISSION_DENIED")
    func jwtRoundTrip() async throws {
        let harness = Harness()
        let entry = try harness.entryForThisProcess("/agents/jwt")
        try await harness.store.createEntry(entry)
        try await harness.run { client, _ in
            var request = Workload_JWTSVIDRequest()
            request.audience = ["gateway", "audit"]
            let response = try await client.fetchJWTSVID(request, metadata: Harness.header)
            let token = try #require(response.svids.first?.svid)
            #expect(response.svids.first?.spiffeID == entry.spiffeID.description)

            var validate = Workload_ValidateJWTSVIDRequest()
            validate.audience = "audit"
            validate.svid = token
            let validated = try await client.validateJWTSVID(validate, metadata: Harness.header)
            #expect(validated.spiffeID == entry.spiffeID.description)
            #expect(validated.claims.fields["sub"]?.stringValue == entry.spiffeID.description)
            #expect(validated.claims.fields["aud"]?.listValue.values.map(\.stringValue) == ["gateway", "audit"])

            validate.audience = "someone-else"
            #expect(await RPCError.Code.of { _ = try await client.validateJWTSVID(validate, metadata: Harness.header) } == .invalidArgument)
            validate.audience = "audit"
            validate.svid = String(token.dropLast(2)) + (token.hasSuffix("AA") ? "BB" : "AA")
            #expect(await RPCError.Code.of { _ = try await client.validateJWTSVID(validate, metadata: Harness.header) } == .invalidArgument)
            validate.svid = ""
            #expect(await RPCError.Code.of { _ = try await client.validateJWTSVID(validate, metadata: Harness.header) } == .invalidArgument)

            request.audience = []
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(request, metadata: Harness.header) } == .invalidArgument)
            request.audience = ["gateway"]
            request.spiffeID = "spiffe://example.org/agents/someone-else"
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(request, metadata: Harness.header) } == .permissionDenied)
            request.spiffeID = "not a spiffe id"
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(request, metadata: Harness.header) } == .invalidArgument)
            request.spiffeID = entry.spiffeID.description
            #expect(try await client.fetchJWTSVID(request, metadata: Harness.header).svids.count == 1)
        }
    }

    @Test("an entry created while the server runs is served after the next refresh; a deleted one is withdrawn")
    func entryChangesWithoutRestart() async throws {
        let harness = Harness()
        try await harness.run { client, state in
            var request = Workload_JWTSVIDRequest()
            request.audience = ["a"]
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(request, metadata: Harness.header) } == .permissionDenied)
            let entry = try harness.entryForThisProcess("/agents/late")
            try await harness.store.createEntry(entry)
            try await harness.refresh(state)
            #expect(try await client.fetchJWTSVID(request, metadata: Harness.header).svids.map(\.spiffeID) == [entry.spiffeID.description])
            _ = try await harness.store.deleteEntry(id: entry.id)
            try await harness.refresh(state)
            #expect(await RPCError.Code.of { _ = try await client.fetchJWTSVID(request, metadata: Harness.header) } == .permissionDenied)
        }
    }

    // The limit guards against a hang, not a speed: under the whole suite on 2 cores (other tests
    // waiting on child processes hold the cooperative threads) a run has taken up to 2 minutes.
    @Test("across a CA rotation the stream delivers an SVID from the new authority before the old SVID expires", .timeLimit(.minutes(4)))
    func rotationOverStream() async throws {
        let harness = Harness(lifetime: 3_600_000)
        let entry = try harness.entryForThisProcess("/agents/rotating", x509TTL: 3600, jwtTTL: 3600)
        try await harness.store.createEntry(entry)
        try await harness.run { client, state in
            let firstAuthority = try #require(state.snapshot.x509Authority?.keyID)
            let firstJWTKey = try #require(state.snapshot.jwtSigningKey?.keyID)
            let jwtRequest = { () -> Workload_JWTSVIDRequest in
                var request = Workload_JWTSVIDRequest()
                request.audience = ["gateway"]
                return request
            }()
            let oldTokens = Mutex<[String]>([])

            let outcome = try await client.fetchX509SVID(Workload_X509SVIDRequest(), metadata: Harness.header) { response in
                var previous: (issuer: String, notAfter: Int64)?
                var messages = 0
                for try await message in response.messages {
                    messages += 1
                    let svid = try #require(message.svids.first)
                    let snapshot = state.snapshot
                    let now = harness.clock.now().milliseconds
                    let checked = try X509SVIDValidator.validate(
                        leafDER: Array(svid.x509Svid), authorities: snapshot.bundle.x509Authorities.map(\.certificate), now: now)
                    let issuer = try #require(snapshot.bundle.x509Authorities.first { $0.certificate == checked.issuer }?.keyID)
                    if issuer != firstAuthority {
                        // The new SVID arrived while the one before it was still valid, and the
                        // bundle sent with it holds both authorities.
                        let before = try #require(previous)
                        #expect(before.issuer == firstAuthority)
                        #expect(now < before.notAfter, "the previous SVID had already expired")
                        #expect(snapshot.bundle.x509Authorities.count >= 2)
                        return (messages, now, before.notAfter)
                    }
                    previous = (issuer, Int64(checked.certificate.notValidAfter.timeIntervalSince1970 * 1000))
                    // Keep a JWT-SVID from the key of this round, then move time and rotate.
                    if state.snapshot.jwtSigningKey?.keyID == firstJWTKey {
                        let token = try await client.fetchJWTSVID(jwtRequest, metadata: Harness.header).svids[0].svid
                        oldTokens.withLock { $0.append(token) }
                    }
                    for _ in 0..<24 {
                        harness.clock.advance(seconds: 300)
                        let generation = state.snapshot.generation
                        try await harness.refresh(state, rotate: true)
                        if state.snapshot.generation != generation { break }
                    }
                }
                return (messages, Int64(0), Int64(0))
            }
            #expect(outcome.0 >= 2, "the stream never delivered an SVID from a rotated authority")

            // JWT-SVIDs signed by the retired key still validate until they expire.
            #expect(state.snapshot.jwtSigningKey?.keyID != firstJWTKey)
            let token = try #require(oldTokens.withLock { $0.last })
            var validate = Workload_ValidateJWTSVIDRequest()
            validate.audience = "gateway"
            validate.svid = token
            let validated = try await client.validateJWTSVID(validate, metadata: Harness.header)
            #expect(validated.spiffeID == entry.spiffeID.description)
            let exp = try #require(validated.claims.fields["exp"]?.numberValue)
            harness.clock.set(UnixTime(milliseconds: Int64(exp) * 1000 + 31_000))
            #expect(await RPCError.Code.of { _ = try await client.validateJWTSVID(validate, metadata: Harness.header) } == .invalidArgument)
        }
    }
}
