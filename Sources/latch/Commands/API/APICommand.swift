import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LatchWorkloadProto

/// `latch api …`: a Workload API client, for operators and scripts (what `spire-agent api` is to
/// SPIRE): fetch this process's SVIDs from the socket and validate JWT-SVIDs. The caller is
/// whoever runs the command: the server attests it from the socket's peer credentials.
struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "Call the SPIFFE Workload API as this process.",
        subcommands: [APIFetchX509Command.self, APIFetchJWTCommand.self, APIValidateJWTCommand.self]
    )

    typealias Client = Workload_SpiffeWorkloadAPI.Client<HTTP2ClientTransport.Posix>

    /// Connects to the socket, runs `body`, and turns a gRPC error into exit code 1 with
    /// `error: CODE: message` on standard error.
    static func withClient<Result: Sendable>(socket: String?, _ body: @Sendable (Client) async throws -> Result) async throws -> Result {
        let path = Self.socketPath(socket)
        do {
            return try await withGRPCClient(
                transport: .http2NIOPosix(target: .unixDomainSocket(path: path), transportSecurity: .plaintext)
            ) { client in
                try await body(Client(wrapping: client))
            }
        } catch let error as RPCError {
            PolicyCommand.writeError("error: \(Self.canonicalName(error.code)): \(error.message)")
            throw ExitCode(1)
        }
    }

    /// `--socket`, else `SPIFFE_ENDPOINT_SOCKET` (`unix:///path` or a path), else the default socket.
    static func socketPath(_ flag: String?) -> String {
        var path = flag ?? ProcessInfo.processInfo.environment["SPIFFE_ENDPOINT_SOCKET"] ?? "latch-data/public/workload.sock"
        if path.hasPrefix("unix://") {
            path.removeFirst("unix://".count)
        } else if path.hasPrefix("unix:") {
            path.removeFirst("unix:".count)
        }
        return path
    }

    /// gRPC's canonical spelling of a status code (`permissionDenied` → `PERMISSION_DENIED`).
    static func canonicalName(_ code: RPCError.Code) -> String {
        var name = ""
        for character in "\(code)" {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }

    static let header: Metadata = ["workload.spiffe.io": "true"]

    /// Requests give up after this long (the server answers at once or not at all).
    static var timeout: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        return options
    }
}
