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
        let presented = request.metadata[stringValues: PeerCredentialHeaders.token].first(where: { _ in true }) ?? ""
        guard constantTimeEquals(Array(presented.utf8), Array(self.token.utf8)),
            let uid = request.metadata[stringValues: PeerCredentialHeaders.uid].first(where: { _ in true }).flatMap({ UInt32($0) }),
            let gid = request.metadata[stringValues: PeerCredentialHeaders.gid].first(where: { _ in true }).flatMap({ UInt32($0) }),
            let pid = request.metadata[stringValues: PeerCredentialHeaders.pid].first(where: { _ in true }).flatMap({ Int32($0) })
        else {
            throw RPCError(code: .permissionDenied, message: "the caller's peer credentials are not available")
        }
        var request = request
        for name in PeerCredentialHeaders.all { request.metadata.removeAllValues(forKey: name) }
        var context = context
        context.transportSpecific = WorkloadCaller(credentials: PeerCredentials(pid: pid, uid: uid, gid: gid))
        return try await next(request, context)
    }
}
