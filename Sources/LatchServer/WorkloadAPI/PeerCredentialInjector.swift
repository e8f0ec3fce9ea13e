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
/// grpc-swift's transport gives handlers no access to the socket, so Latch reads the credentials
/// when a connection is accepted (``recordConnectionPeer(on:)``) and installs a handler on every
/// accepted HTTP/2 stream (through the transport's public `onAcceptHTTP2Stream` callback) that
/// writes them into the request headers under reserved names, together with a per-process random
/// token. ``WorkloadAPIInterceptor`` then checks the token, moves the values
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
    static let start = "x-latch-peer-start"
    static let token = "x-latch-peer-token"
    static let all = [uid, gid, pid, start, token]
}

/// Mirror of Linux's `struct ucred` (hidden from Swift's Glibc module without `_GNU_SOURCE`).
struct LinuxUcred {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

/// Records the kernel's view of the peer of an accepted connection, once, when it is accepted
/// (`onAcceptTCPConnection`, which runs for unix-socket connections too, before any stream): the
/// SO_PEERCRED uid, gid and pid, and the pid's start time, so a pid later reused by another
/// process is refused (``UnixAttestor`` compares start times). Stored in a pass-through handler at
/// the end of the connection's pipeline, where each stream finds it through `stream.parent`.
/// Anything unreadable records no credentials: the connection's calls are then refused.
func recordConnectionPeer(on connection: any Channel) -> EventLoopFuture<Void> {
    guard let socket = connection as? any SocketOptionProvider else {
        return connection.eventLoop.makeCompletedFuture { try connection.pipeline.syncOperations.addHandler(ConnectionPeer(nil)) }
    }
    let read: EventLoopFuture<LinuxUcred> = socket.unsafeGetSocketOption(
        level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
    return
        read
        .map { ucred -> PeerCredentials? in
            guard ucred.pid > 0, let start = try? UnixAttestor().startTime(pid: ucred.pid) else { return nil }
            return PeerCredentials(pid: ucred.pid, uid: ucred.uid, gid: ucred.gid, startTime: start)
        }
        .recover { _ in nil }
        .hop(to: connection.eventLoop)
        .flatMapThrowing { try connection.pipeline.syncOperations.addHandler(ConnectionPeer($0)) }
}

/// Installs a ``PeerCredentialInjector`` on an accepted HTTP/2 stream with its connection's peer.
func installPeerCredentialInjector(on stream: any Channel, token: String) -> EventLoopFuture<Void> {
    stream.eventLoop.makeCompletedFuture {
        let peer = try? stream.parent?.pipeline.syncOperations.handler(type: ConnectionPeer.self).credentials
        try stream.pipeline.syncOperations.addHandler(PeerCredentialInjector(credentials: peer ?? nil, token: token), position: .first)
    }
}

/// Holds a connection's peer credentials; passes everything through.
final class ConnectionPeer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never
    let credentials: PeerCredentials?
    init(_ credentials: PeerCredentials?) { self.credentials = credentials }
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
                headers.headers.add(name: PeerCredentialHeaders.start, value: String(credentials.startTime ?? -1))
                headers.headers.add(name: PeerCredentialHeaders.token, value: self.token)
            }
            self.injected = true
            payload = .headers(headers)
        }
        context.fireChannelRead(Self.wrapInboundOut(payload))
    }
}
