import Crypto
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchCore
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Serves ``WorkloadAPIService`` over gRPC on a unix socket, as a ServiceLifecycle service.
///
/// The socket's directory is created if missing; a stale socket file is replaced; the socket is
/// made `socketMode` (default 0777, as SPIRE's agent socket: any local process may ask, and
/// attestation decides what it gets). Graceful shutdown ends open streams.
struct WorkloadAPIServer: Service {
    let socketPath: String
    let socketMode: UInt32
    let service: WorkloadAPIService
    /// Called once the socket accepts connections.
    let onListening: @Sendable (String) -> Void
    let logger: Logger

    func run() async throws {
        let token = Self.randomToken()
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { connection in recordConnectionPeer(on: connection) }
        config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in installPeerCredentialInjector(on: stream, token: token) }
        // The largest request is ValidateJWTSVID (the validator caps tokens at 16 KiB).
        config.rpc.maxRequestPayloadSize = 64 * 1024
        if let slash = self.socketPath.lastIndex(of: "/"), slash != self.socketPath.startIndex {
            try StoreAccess.createDirectory(String(self.socketPath[..<slash]), mode: 0o755)
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: self.socketPath), transportSecurity: .plaintext, config: config)
        let server = GRPCServer(transport: transport, services: [self.service], interceptors: [WorkloadAPIInterceptor(token: token)])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    server.beginGracefulShutdown()
                }
            }
            _ = try await transport.listeningAddress
            // The path must still be the socket we bound (not a symlink planted in a shared
            // directory) before its mode is widened.
            var info = stat()
            guard lstat(self.socketPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == geteuid(),
                chmod(self.socketPath, mode_t(self.socketMode)) == 0
            else {
                server.beginGracefulShutdown()
                throw LatchError(.io, "cannot set the mode of \(self.socketPath): not our socket, or errno \(errno)")
            }
            self.logger.info("Workload API listening", metadata: ["socket": "\(self.socketPath)"])
            self.onListening(self.socketPath)
        }
    }

    /// 32 random bytes, hex: the token that proves reserved headers came from our own injector.
    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in
            bytes.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        }
    }
}
