import GRPCCore
import LatchIdentity

/// The caller of a Workload API RPC as the kernel reported it; set by ``WorkloadAPIInterceptor``
/// in `ServerContext.transportSpecific`.
struct WorkloadCaller: ServerContext.TransportSpecific {
    let credentials: PeerCredentials
}

extension ServerContext {
    /// The kernel-reported caller, or nil (handlers then refuse with PERMISSION_DENIED).
    var workloadCaller: PeerCredentials? { (self.transportSpecific as? WorkloadCaller)?.credentials }
}

/// Runs before every Workload API handler, in the order the SPIFFE Workload API requires:
/// 1. the `workload.spiffe.io: true` security header must be present, else INVALID_ARGUMENT;
/// 2. the peer credentials added by ``PeerCredentialInjector`` must carry this process's token and
///    parse, else PERMISSION_DENIED (fail closed: the caller cannot be attested);
/// 3. the reserved metadata is removed and the credentials are put in the context.
struct WorkloadAPIInterceptor: ServerInterceptor {
    /// Random per process; compared in constant time.
    let token: String

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard request.metadata[stringValues: "workload.spiffe.io"].contains(where: { $0 == "true" }) else {
            throw RPCError(code: .invalidArgument, message: "security header missing from request")
        }
        // Exactly one value per reserved name: the injector strips whatever the client sent, so
        // a second value would mean that stripping failed.
        func single(_ name: String) -> String? {
            let values = Array(request.metadata[stringValues: name])
            return values.count == 1 ? values[0] : nil
        }
        guard let presented = single(PeerCredentialHeaders.token), constantTimeEquals(Array(presented.utf8), Array(self.token.utf8)),
            let uid = single(PeerCredentialHeaders.uid).flatMap({ UInt32($0) }),
            let gid = single(PeerCredentialHeaders.gid).flatMap({ UInt32($0) }),
            let pid = single(PeerCredentialHeaders.pid).flatMap({ Int32($0) }),
            let start = single(PeerCredentialHeaders.start).flatMap({ Int64($0) }), start >= 0
        else {
            throw RPCError(code: .permissionDenied, message: "the caller's peer credentials are not available")
        }
        var request = request
        for name in PeerCredentialHeaders.all { request.metadata.removeAllValues(forKey: name) }
        var context = context
        context.transportSpecific = WorkloadCaller(credentials: PeerCredentials(pid: pid, uid: uid, gid: gid, startTime: start))
        return try await next(request, context)
    }
}
