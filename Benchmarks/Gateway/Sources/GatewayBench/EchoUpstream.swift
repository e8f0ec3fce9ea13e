import Foundation
import HTTPTypes
import Hummingbird
import LatchIdentity
import Logging
import NIOCore

/// The fast upstream: an MCP server over Streamable HTTP (2025-11-25) on loopback whose tools
/// answer every `tools/call` with a canned result (JSON responses, no SSE): `echo` at once, and
/// `echo_<n>ms` after waiting n milliseconds (a tool that does some work), one for each delay of
/// `BENCH_TOOL_MS`. It keeps no session state: `initialize` hands out a session ID and any ID is
/// accepted afterwards.
enum EchoUpstream {
    /// The tool that answers after `milliseconds`.
    static func toolName(milliseconds: Int) -> String { milliseconds == 0 ? "echo" : "echo_\(milliseconds)ms" }

    static let result: [UInt8] = JSONValue.object([
        "content": .array([.object(["type": .string("text"), "text": .string("hello from the echo tool")])]), "isError": .bool(false),
    ]).serializedBytes
    static let initializeResult: [UInt8] = JSONValue.object([
        "protocolVersion": .string("2025-11-25"), "capabilities": .object(["tools": .object(["listChanged": .bool(false)])]),
        "serverInfo": .object(["name": .string("bench-echo"), "version": .string("1")]),
    ]).serializedBytes
    static func toolsResult(_ delays: [Int]) -> [UInt8] {
        JSONValue.object([
            "tools": .array(
                delays.map { delay in
                    .object([
                        "name": .string(Self.toolName(milliseconds: delay)),
                        "description": .string(delay == 0 ? "Answers with a canned text." : "Answers with a canned text after \(delay) ms."),
                        "inputSchema": .object(["type": .string("object"), "properties": .object(["text": .object(["type": .string("string")])])]),
                    ])
                })
        ]).serializedBytes
    }

    /// Serves on 127.0.0.1 (port chosen by the system, printed as `port=N` on stdout) until SIGTERM.
    static func run(toolDelays: [Int]) async throws {
        let toolsResult = Self.toolsResult(toolDelays)
        let delays = Dictionary(uniqueKeysWithValues: toolDelays.map { (Self.toolName(milliseconds: $0), Duration.milliseconds($0)) })
        let router = Router()
        router.post("/mcp") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            guard let message = JSONValue(parsing: body.readableBytesView), let method = message["method"]?.stringValue else {
                return Response(status: .badRequest)
            }
            guard let id = message["id"] else { return Response(status: .accepted) }
            var headers: HTTPFields = [.contentType: "application/json"]
            let result: [UInt8]
            switch method {
            case "initialize":
                headers[HTTPField.Name("Mcp-Session-Id")!] = "bench-session"
                result = Self.initializeResult
            case "tools/list":
                result = toolsResult
            case "tools/call":
                guard let name = message["params"]?["name"]?.stringValue, let delay = delays[name] else {
                    return Self.answer(
                        headers,
                        #"{"jsonrpc":"2.0","id":"# + String(decoding: id.serializedBytes, as: UTF8.self)
                            + #","error":{"code":-32602,"message":"Unknown tool"}}"#)
                }
                if delay > .zero { try await Task.sleep(for: delay) }
                result = Self.result
            default:
                return Self.answer(
                    headers,
                    #"{"jsonrpc":"2.0","id":"# + String(decoding: id.serializedBytes, as: UTF8.self)
                        + #","error":{"code":-32601,"message":"Method not found"}}"#)
            }
            var bytes = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
            bytes += id.serializedBytes
            bytes += Array(#","result":"#.utf8)
            bytes += result
            bytes.append(UInt8(ascii: "}"))
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        var logger = Logger(label: "bench-upstream")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                print("port=\(channel.localAddress?.port ?? 0)")
                fflush(nil)
            },
            logger: logger)
        try await app.runService()
    }

    static func answer(_ headers: HTTPFields, _ text: String) -> Response {
        Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
