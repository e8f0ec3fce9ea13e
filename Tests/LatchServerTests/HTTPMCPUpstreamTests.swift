import AsyncHTTPClient
import Foundation
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer
import LatchTesting
import Logging
import Testing

/// The Streamable HTTP upstream against the reference SDK's server (`Tests/Interop/mcp_upstream.py --transport http`).
@Suite("HTTPMCPUpstream")
struct HTTPMCPUpstreamTests {
    /// One client for the suite (never shut down: it lives as long as the test process).
    static let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPMCPUpstream.clientConfiguration())
    /// One that gives up on a server that is not there after 2 s.
    static let impatientClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPMCPUpstream.clientConfiguration(connectTimeout: .seconds(2)))

    static func upstream(
        _ server: HTTPUpstreamServer, headers: [String: String] = [:], requestTimeout: Duration = .seconds(60),
        maxResponseBytes: Int = 16 << 20, records: RecordingLogHandler.Records = .init(), client: HTTPClient = Self.client
    ) -> HTTPMCPUpstream {
        HTTPMCPUpstream(
            configuration: .init(
                name: "web", url: server.url, headers: headers.mapValues { Redacted($0) }, requestTimeout: requestTimeout,
                maxResponseBytes: maxResponseBytes),
            client: client, logger: records.logger())
    }

    static func text(_ result: JSONValue) -> String? { result["content"]?.arrayValue?.first?["text"]?.stringValue }

    static func echo(_ upstream: HTTPMCPUpstream, _ text: String) async throws -> String? {
        Self.text(try await upstream.callTool(name: "echo", arguments: .object(["text": .string(text)]), meta: nil))
    }

    static func whoami(_ upstream: HTTPMCPUpstream, meta: JSONValue? = nil, headers: [String: String] = [:]) async throws -> JSONValue {
        let result = try await upstream.callTool(name: "whoami", arguments: nil, meta: meta, headers: headers)
        return try #require(Self.text(result).flatMap { JSONValue(parsing: Array($0.utf8)) })
    }

    @Test(
        "lists tools and calls echo, with SSE answers, JSON answers, and a stateless server", arguments: [[], ["--json-response"], ["--stateless"]])
    func listAndCall(options: [String]) async throws {
        let server = try await HTTPUpstreamServer.start(options: options)
        let upstream = Self.upstream(server)
        let names = Set(try await upstream.listTools().compactMap { $0["name"]?.stringValue })
        #expect(names.isSuperset(of: ["read_file", "crm_lookup", "send_email", "http_fetch", "echo", "fail", "sleep", "crash", "whoami"]))
        #expect(try await Self.echo(upstream, "hello over http") == "hello over http", "\(server.log)")
        let secret = try await upstream.callTool(name: "read_file", arguments: .object(["path": .string("internal/roadmap.md")]), meta: nil)
        #expect(secret["content"]?.arrayValue?.first?["_meta"]?["sensitivity"] == .string("internal"))
        await upstream.shutdown()
        let error = await #expect(throws: MCPUpstreamError.self) { try await Self.echo(upstream, "after") }
        #expect(error?.reason.contains("shut down") == true)
        server.stop()
    }

    @Test("50 concurrent calls each get their own answer")
    func concurrentCalls() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server)
        let answers = try await MCPUpstreamChecks.concurrentEchoes(upstream)
        #expect(answers.count == 50)
        for (index, text) in answers { #expect(text == "message \(index)") }
        await upstream.shutdown()
        server.stop()
    }

    @Test("a tool error is a result with isError; an unknown tool is a JSON-RPC error")
    func errors() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server)
        let failed = try await upstream.callTool(name: "fail", arguments: .object(["message": .string("quota exceeded")]), meta: nil)
        #expect(failed["isError"] == .bool(true))
        #expect(Self.text(failed)?.contains("quota exceeded") == true)
        let error = await #expect(throws: MCPUpstreamError.self) { try await upstream.callTool(name: "nope", arguments: nil, meta: nil) }
        guard case .rpcError(let code, _, let data) = error?.kind else {
            Issue.record("expected a JSON-RPC error, got \(String(describing: error))")
            return
        }
        #expect(code == -32602)
        #expect(data?["name"] == .string("nope"))
        await upstream.shutdown()
        server.stop()
    }

    @Test("the configured credential goes on every request, is required by the server, and is never logged")
    func credential() async throws {
        let secret = "tok-\(UUID().uuidString)"
        let server = try await HTTPUpstreamServer.start(options: ["--require-token", "UPSTREAM_TOKEN"], environment: ["UPSTREAM_TOKEN": secret])
        let records = RecordingLogHandler.Records()
        let right = Self.upstream(server, headers: ["Authorization": "Bearer \(secret)"], records: records)
        #expect(try await Self.whoami(right)["credential"] == .string("matched"))
        let read = try await right.callTool(name: "read_file", arguments: .object(["path": .string("public/readme.txt")]), meta: nil)
        #expect(read["isError"] == .bool(false))

        for headers in [["Authorization": "Bearer wrong"], [:]] {
            let wrong = Self.upstream(server, headers: headers, records: records)
            let error = await #expect(throws: MCPUpstreamError.self) { try await wrong.listTools() }
            #expect(error?.kind == .unavailable)
            #expect(error?.reason.contains("refused Latch's credential (HTTP 401)") == true, "\(String(describing: error))")
            #expect(error?.reason.contains(secret) == false)
        }
        await right.shutdown()
        server.stop()
        #expect(!records.all.isEmpty)
        #expect(!records.all.contains { $0.contains(secret) }, "the credential must never be logged")
    }

    @Test("trace context goes out as headers: given per call, or taken from _meta")
    func traceHeaders() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server)
        let explicit = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        #expect(try await Self.whoami(upstream, headers: ["traceparent": explicit])["traceparent"] == .string(explicit))
        let fromMeta = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let meta: JSONValue = .object(["traceparent": .string(fromMeta)])
        let result = try await upstream.callTool(name: "whoami", arguments: nil, meta: meta)
        let seen = try #require(Self.text(result).flatMap { JSONValue(parsing: Array($0.utf8)) })
        #expect(seen["traceparent"] == .string(fromMeta))
        #expect(seen["meta"] == meta)
        let bad = await #expect(throws: MCPUpstreamError.self) {
            try await upstream.callTool(name: "echo", arguments: nil, meta: nil, headers: ["traceparent": "x\r\ninjected: 1"])
        }
        #expect(bad?.reason.contains("invalid header") == true)
        await upstream.shutdown()
        server.stop()
    }

    @Test("the upstream's ping on the response stream is answered and its other requests refused")
    func serverRequests() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server)
        let probed = try await upstream.callTool(name: "probe_client", arguments: nil, meta: nil)
        let report = try #require(Self.text(probed).flatMap { JSONValue(parsing: Array($0.utf8)) }, "\(probed)")
        #expect(report["ping"] == .string("ok"), "\(server.log)")
        #expect(report["roots"] == .string("error -32601"))
        await upstream.shutdown()
        server.stop()
    }

    @Test("a call past the timeout fails and the session keeps serving")
    func timeout() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server, requestTimeout: .seconds(5))
        #expect(try await Self.echo(upstream, "warm") == "warm")
        let error = await #expect(throws: MCPUpstreamError.self) {
            try await upstream.callTool(name: "sleep", arguments: .object(["seconds": .int(60)]), meta: nil)
        }
        #expect(error?.kind == .unavailable)
        #expect(error?.reason.contains("did not answer tools/call within") == true, "\(String(describing: error))")
        #expect(try await Self.echo(upstream, "after") == "after")
        await upstream.shutdown()
        server.stop()
    }

    @Test("when the server dies the pending call fails; a restarted server (new session) is initialized again")
    func crashAndRestart() async throws {
        let first = try await HTTPUpstreamServer.start()
        let records = RecordingLogHandler.Records()
        let upstream = Self.upstream(first, records: records, client: Self.impatientClient)
        let before = try await Self.whoami(upstream)["pid"]
        let crashed = await #expect(throws: MCPUpstreamError.self) { try await upstream.callTool(name: "crash", arguments: nil, meta: nil) }
        #expect(crashed?.kind == .unavailable, "\(String(describing: crashed))")
        first.stop()
        let refused = await #expect(throws: MCPUpstreamError.self) { try await Self.echo(upstream, "nobody home") }
        #expect(refused?.reason.contains("unreachable") == true, "\(String(describing: refused))")

        // The same address, a server that never heard of the session: 404, initialize, retry.
        let second = try await HTTPUpstreamServer.start(options: ["--port", "\(first.port)"])
        #expect(try await Self.echo(upstream, "back") == "back", "\(second.log)")
        #expect(records.all.contains { $0.contains("upstream forgot the session") })
        #expect(try await Self.whoami(upstream)["pid"] != before)
        await upstream.shutdown()
        second.stop()
    }

    @Test("an answer over the size limit fails the call")
    func responseLimit() async throws {
        let server = try await HTTPUpstreamServer.start()
        let upstream = Self.upstream(server, maxResponseBytes: 1024)
        #expect(try await Self.echo(upstream, "small") == "small")
        let error = await #expect(throws: MCPUpstreamError.self) { try await upstream.listTools() }
        #expect(error?.kind == .unavailable)
        #expect(error?.reason.contains("over 1024 bytes") == true, "\(String(describing: error))")
        await upstream.shutdown()
        server.stop()
    }
}
