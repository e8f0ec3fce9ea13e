import Foundation
import GRPCCore
import LatchCore
import LatchIdentity
import LatchWorkloadProto
import Logging
import SwiftProtobuf
import Synchronization

/// The SPIFFE Workload API (`SpiffeWorkloadAPI`), served on a unix socket.
///
/// Every call has passed ``WorkloadAPIInterceptor`` (security header, kernel peer credentials).
/// The caller is attested by ``UnixAttestor`` (uid, gid, pid, executable path and SHA-256) and
/// is entitled to the SPIFFE IDs of the registration entries whose selectors it all presents.
/// A caller entitled to none gets PERMISSION_DENIED, as the specification requires.
///
/// Streams (`FetchX509SVID`, `FetchX509Bundles`, `FetchJWTBundles`) send at once and again when the
/// bundle or the caller's entries change (CA rotation, `latch entry`), and X.509-SVIDs are renewed
/// at half their lifetime, so a client always holds a valid SVID across a rotation.
struct WorkloadAPIService: Workload_SpiffeWorkloadAPI.SimpleServiceProtocol {
    let state: IdentityState
    let attestor: UnixAttestor
    let clock: any WallClock
    let logger: Logger

    // MARK: X.509

    func fetchX509SVID(
        request: Workload_X509SVIDRequest, response: RPCWriter<Workload_X509SVIDResponse>, context: ServerContext
    ) async throws {
        let selectors = try self.attest(context)
        self.state.openStreams.wrappingAdd(1, ordering: .relaxed)
        defer { self.state.openStreams.wrappingSubtract(1, ordering: .relaxed) }
        while !context.cancellation.isCancelled {
            let snapshot = self.state.snapshot
            let entries = try Self.entitled(snapshot, selectors)
            guard let authority = snapshot.x509Authority else { throw RPCError(code: .unavailable, message: "no active X.509 authority") }
            let now = self.clock.now().milliseconds
            var message = Workload_X509SVIDResponse()
            var renewAt = Int64.max
            let bundle = Data(snapshot.bundle.x509BundleDER)
            for entry in entries {
                let svid = try X509SVIDMinter.mintAndVerify(
                    spiffeID: entry.spiffeID, ttl: entry.x509SVIDTTL * 1000, now: now, authority: authority)
                guard let key = svid.privateKeyPKCS8 else { throw RPCError(code: .internalError, message: "minted SVID has no key") }
                var item = Workload_X509SVID()
                item.spiffeID = entry.spiffeID.description
                item.x509Svid = Data(svid.certificateDER)
                item.x509SvidKey = Data(key.unredacted)
                item.bundle = bundle
                message.svids.append(item)
                renewAt = min(renewAt, now + (svid.notAfter - now) / 2)
            }
            try await response.write(message)
            self.logger.debug("X.509-SVIDs sent", metadata: ["svid.count": "\(entries.count)"])
            await self.waitForChange(past: snapshot.generation, orUntil: renewAt, context: context)
        }
    }

    func fetchX509Bundles(
        request: Workload_X509BundlesRequest, response: RPCWriter<Workload_X509BundlesResponse>, context: ServerContext
    ) async throws {
        try await self.streamBundles(to: response, context: context) { bundle in
            var message = Workload_X509BundlesResponse()
            message.bundles[bundle.trustDomain.idString] = Data(bundle.x509BundleDER)
            return message
        }
    }

    // MARK: JWT

    func fetchJWTSVID(request: Workload_JWTSVIDRequest, context: ServerContext) async throws -> Workload_JWTSVIDResponse {
        let selectors = try self.attest(context)
        guard !request.audience.isEmpty, request.audience.allSatisfy({ !$0.isEmpty }) else {
            throw RPCError(code: .invalidArgument, message: "audience must be specified")
        }
        let snapshot = self.state.snapshot
        var entries = try Self.entitled(snapshot, selectors)
        if !request.spiffeID.isEmpty {
            let wanted: SPIFFEID
            do { wanted = try SPIFFEID(parsing: request.spiffeID) } catch {
                throw RPCError(code: .invalidArgument, message: "spiffe_id is not a SPIFFE ID: \(error.code)")
            }
            entries = entries.filter { $0.spiffeID == wanted }
            guard !entries.isEmpty else { throw RPCError(code: .permissionDenied, message: "no identity issued for \(wanted)") }
        }
        guard let key = snapshot.jwtSigningKey else { throw RPCError(code: .unavailable, message: "no active JWT signing key") }
        let now = self.clock.now().milliseconds
        var message = Workload_JWTSVIDResponse()
        var seen = Set<SPIFFEID>()
        for entry in entries where seen.insert(entry.spiffeID).inserted {
            let svid = try JWTSVIDMinter.mintAndVerify(
                spiffeID: entry.spiffeID, audience: request.audience, ttl: entry.jwtSVIDTTL * 1000, now: now, key: key,
                validator: snapshot.validator)
            var item = Workload_JWTSVID()
            item.spiffeID = entry.spiffeID.description
            item.svid = svid.token.unredacted
            message.svids.append(item)
        }
        return message
    }

    func fetchJWTBundles(
        request: Workload_JWTBundlesRequest, response: RPCWriter<Workload_JWTBundlesResponse>, context: ServerContext
    ) async throws {
        try await self.streamBundles(to: response, context: context) { bundle in
            var message = Workload_JWTBundlesResponse()
            message.bundles[bundle.trustDomain.idString] = Data(bundle.jwtBundle.serializedBytes)
            return message
        }
    }

    func validateJWTSVID(request: Workload_ValidateJWTSVIDRequest, context: ServerContext) async throws -> Workload_ValidateJWTSVIDResponse {
        // Like the other calls (and SPIRE), only a workload with an identity may validate.
        let selectors = try self.attest(context)
        _ = try Self.entitled(self.state.snapshot, selectors)
        guard !request.audience.isEmpty else { throw RPCError(code: .invalidArgument, message: "audience must be specified") }
        guard !request.svid.isEmpty else { throw RPCError(code: .invalidArgument, message: "svid must be specified") }
        let validated: ValidatedJWTSVID
        do {
            validated = try self.state.snapshot.validator.validate(request.svid, audience: request.audience, now: self.clock.now().milliseconds)
        } catch {
            // The code names the check that failed; the token itself is never echoed or logged.
            throw RPCError(code: .invalidArgument, message: "invalid JWT-SVID: \(error.code)")
        }
        var message = Workload_ValidateJWTSVIDResponse()
        message.spiffeID = validated.spiffeID.description
        message.claims = Google_Protobuf_Struct(fields: validated.claims.mapValues(Self.protobufValue))
        return message
    }

    // MARK: Helpers

    /// The bundle streams: sends `message(bundle)` at once and again whenever the bundle's
    /// sequence moves, while the caller stays entitled to an identity.
    private func streamBundles<Message: Sendable>(
        to response: RPCWriter<Message>, context: ServerContext, _ message: (TrustBundle) -> Message
    ) async throws {
        let selectors = try self.attest(context)
        self.state.openStreams.wrappingAdd(1, ordering: .relaxed)
        defer { self.state.openStreams.wrappingSubtract(1, ordering: .relaxed) }
        var sentSequence: Int64?
        while !context.cancellation.isCancelled {
            let snapshot = self.state.snapshot
            _ = try Self.entitled(snapshot, selectors)
            if sentSequence != snapshot.bundle.sequence {
                try await response.write(message(snapshot.bundle))
                sentSequence = snapshot.bundle.sequence
            }
            await self.waitForChange(past: snapshot.generation, orUntil: nil, context: context)
        }
    }

    /// The caller's selectors, or PERMISSION_DENIED when it cannot be attested.
    private func attest(_ context: ServerContext) throws -> Set<Selector> {
        guard let caller = context.workloadCaller else { throw RPCError(code: .permissionDenied, message: "caller not attested") }
        do {
            return Set(try self.attestor.attest(caller))
        } catch {
            self.logger.notice("workload attestation failed", metadata: ["peer.pid": "\(caller.pid)", "error": "\(error.code)"])
            throw RPCError(code: .permissionDenied, message: "workload attestation failed: \(error.code)")
        }
    }

    /// The entries the caller is entitled to; PERMISSION_DENIED when there are none.
    private static func entitled(_ snapshot: IdentitySnapshot, _ selectors: Set<Selector>) throws -> [RegistrationEntry] {
        let entries = snapshot.entries(matching: selectors)
        guard !entries.isEmpty else { throw RPCError(code: .permissionDenied, message: "no identity issued") }
        return entries
    }

    /// Suspends until the identity state moves past `generation`, the wall-clock time `deadline`
    /// (milliseconds) passes, or the RPC is cancelled (client gone, server shutting down).
    private func waitForChange(past generation: UInt64, orUntil deadline: Int64?, context: ServerContext) async {
        let delay = deadline.map { max(1_000, $0 - self.clock.now().milliseconds) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.state.changed(past: generation) }
            group.addTask { try? await context.cancellation.cancelled }
            if let delay { group.addTask { try? await Task.sleep(for: .milliseconds(delay)) } }
            await group.next()
            group.cancelAll()
        }
    }

    static func protobufValue(_ value: JSONValue) -> Google_Protobuf_Value {
        switch value {
        case .null:
            {
                var null = Google_Protobuf_Value()
                null.nullValue = .nullValue
                return null
            }()
        case .bool(let b): Google_Protobuf_Value(boolValue: b)
        case .int(let i): Google_Protobuf_Value(numberValue: Double(i))
        case .double(let d): Google_Protobuf_Value(numberValue: d)
        case .string(let s): Google_Protobuf_Value(stringValue: s)
        case .array(let a): Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: a.map(protobufValue)))
        case .object(let o): Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: o.mapValues(protobufValue)))
        }
    }
}
