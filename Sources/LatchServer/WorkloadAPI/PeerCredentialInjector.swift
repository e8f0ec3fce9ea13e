import LatchIdentity
import NIOCore
import NIOHPACK
import NIOHTTP2

#if canImport(Glibc)
import Glibc
#endif

/// Carries the kernel's view of a Workload API caller (SO_PEERCRED of its connection) from the
/// socket to the RPC handlers.
///
/// grpc-swift's transport gives handlers no access to the socket, so Latch installs a handler on
/// every accepted HTTP/2 stream (through the transport's public `onAcceptHTTP2Stream` callback)
/// that writes the credentials into the request headers under reserved names, together with a
/// per-process random token. ``WorkloadAPIInterceptor`` then checks the token, moves the values
/// into `ServerContext.transportSpecific` and strips the names, so handlers never see them.
///
/// - Important: the injector removes the reserved names from every HEADERS frame a client sends
///   (trailers included) before adding its own, and the interceptor refuses any request whose
///   token is missing or wrong. A client can therefore never choose its own credentials, and if
///   the injector were not installed every call would be refused rather than trusted.
enum PeerCredentialHeaders {
    static let uid = "x-latch-peer-uid"
    static let gid = "x-latch-peer-gid"
    static let pid = "x-latch-peer-pid"
    static let token = "x-latch-peer-token"
    static let all = [uid, gid, pid, token]
}

/// Mirror of Linux's `struct ucred` (hidden from Swift's Glibc module without `_GNU_SOURCE`).
struct LinuxUcred {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Installs a ``PeerCredentialInjector`` on an accepted HTTP/2 stream channel.
///
/// Reads SO_PEERCRED from the parent (connection) channel; when it cannot be read the injector is
/// still installed with no credentials, so reserved headers are stripped and the call is refused.
func installPeerCredentialInjector(on stream: any Channel, token: String) -> EventLoopFuture<Void> {
    guard let connection = stream.parent as? any SocketOptionProvider else {
        return stream.eventLoop.makeCompletedFuture { try addInjector(to: stream, credentials: nil, token: token) }
    }
    let read: EventLoopFuture<LinuxUcred> = connection.unsafeGetSocketOption(
        level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
    return
        read
        .map { Optional(PeerCredentials(pid: $0.pid, uid: $0.uid, gid: $0.gid)) }
        .recover { _ in nil }
        .hop(to: stream.eventLoop)
        .flatMapThrowing { try addInjector(to: stream, credentials: $0, token: token) }
}

private func addInjector(to stream: any Channel, credentials: PeerCredentials?, token: String) throws {
    try stream.pipeline.syncOperations.addHandler(PeerCredentialInjector(credentials: credentials, token: token), position: .first)
}

/// Strips reserved headers from every inbound HEADERS frame and adds the kernel's values to the
/// first one (the request headers).
final class PeerCredentialInjector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let credentials: PeerCredentials?
    private let token: String
    private var injected = false

    init(credentials: PeerCredentials?, token: String) {
        self.credentials = credentials
        self.token = token
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var payload = Self.unwrapInboundIn(data)
        if case .headers(var headers) = payload {
            for name in PeerCredentialHeaders.all { headers.headers.remove(name: name) }
            if !self.injected, let credentials = self.credentials {
                headers.headers.add(name: PeerCredentialHeaders.uid, value: String(credentials.uid))
                headers.headers.add(name: PeerCredentialHeaders.gid, value: String(credentials.gid))
                headers.headers.add(name: PeerCredentialHeaders.pid, value: String(credentials.pid))
                headers.headers.add(name: PeerCredentialHeaders.token, value: self.token)
            }
            self.injected = true
            payload = .headers(headers)
        }
        context.fireChannelRead(Self.wrapInboundOut(payload))
    }
}
