import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The ceiling of any gateway built from these parts: an HTTP forwarder in this process, on the
/// same server (Hummingbird) and client (AsyncHTTPClient) as Latch, that passes each MCP request
/// to the upstream and its answer back — no authentication, no decision, no record, no parsing.
/// Run beside the two other sides, it shows what the second hop alone costs on this machine: the
/// throughput no gateway can exceed here, whatever its own work.
enum BareForwarder {
    static let forwarded: Set<String> = ["content-type", "accept", "mcp-session-id", "mcp-protocol-version"]

    /// Starts serving on 127.0.0.1 (a port the system picks) and returns the URL of its `/mcp`,
    /// with the task that serves it (cancel it to stop).
    static func start(upstreamURL: String, logger: Logger) async throws -> (url: String, task: Task<Void, any Error>) {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
        let router = Router()
        router.post("/mcp") { request, _ -> Response in
            var request = request
            var outgoing = HTTPClientRequest(url: upstreamURL)
            outgoing.method = .POST
            // What an MCP request needs upstream (as Latch forwards it); not the hop's framing.
            for field in request.headers where Self.forwarded.contains(field.name.canonicalName) {
                outgoing.headers.add(name: field.name.rawName, value: field.value)
            }
            outgoing.body = .bytes(try await request.collectBody(upTo: 1 << 20))
            let answer = try await client.execute(outgoing, timeout: .seconds(60))
            let body = try await answer.body.collect(upTo: 1 << 20)
            var headers = HTTPFields()
            if let type = answer.headers.first(name: "content-type") { headers[.contentType] = type }
            if let session = answer.headers.first(name: "mcp-session-id") { headers[sessionHeader] = session }
            return Response(status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: ResponseBody(byteBuffer: body))
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        let task = Task {
            defer { Task { try? await client.shutdown() } }
            try await app.runService()
        }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        guard port > 0 else { throw BenchFailure(description: "the bare forwarder did not start") }
        return ("http://127.0.0.1:\(port)/mcp", task)
    }
}
