import Foundation
import LatchCore
import LatchGateway
import LatchIdentity
import LatchTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The stdio upstream against the reference SDK's server (`Tests/Interop/mcp_upstream.py`).
@Suite("StdioMCPUpstream")
struct StdioMCPUpstreamTests {
    static func upstream(
        options: [String] = [], environment: [String: String] = [:], requestTimeout: Duration = .seconds(60),
        maxMessageBytes: Int = 16 << 20, records: RecordingLogHandler.Records = .init()
    ) throws -> StdioMCPUpstream {
        let configuration = StdioMCPUpstream.Configuration(
            name: "demo", command: try InteropScripts.interpreter(), arguments: [InteropScripts.mcpUpstream] + options,
            environment: environment.mapValues { Redacted($0) }, requestTimeout: requestTimeout, startTimeout: .seconds(120),
            maxMessageBytes: maxMessageBytes)
        return StdioMCPUpstream(configuration: configuration, logger: records.logger())
    }

    static func text(_ result: JSONValue) -> String? { result["content"]?.arrayValue?.first?["text"]?.stringValue }

    static func whoami(_ upstream: StdioMCPUpstream) async throws -> [String: JSONValue] {
        let result = try await upstream.callTool(name: "whoami", arguments: .object([:]), meta: nil)
        let text = try #require(Self.text(result))
        return try #require(JSONValue(parsing: Array(text.utf8))?.objectValue)
    }

    static func echo(_ upstream: StdioMCPUpstream, _ text: String) async throws -> String? {
        Self.text(try await upstream.callTool(name: "echo", arguments: .object(["text": .string(text)]), meta: nil))
    }

    static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno != ESRCH }

    @Test("lists every tool with its schema, and calls echo")
    func listAndCall() async throws {
        let upstream = try Self.upstream()
        let tools = try await upstream.listTools()
        let names = Set(tools.compactMap { $0["name"]?.stringValue })
        #expect(
            names.isSuperset(of: [
                "read_file", "list_files", "crm_lookup", "send_email", "http_fetch", "echo", "fail", "sleep", "crash", "whoami",
            ]))
        let readFile = try #require(tools.first { $0["name"] == .string("read_file") })
        #expect(readFile["inputSchema"]?["required"] == .array([.string("path")]))
        #expect(try await Self.echo(upstream, "hello, upstream") == "hello, upstream")

        let secret = try await upstream.callTool(name: "read_file", arguments: .object(["path": .string("secret/salaries.csv")]), meta: nil)
        #expect(secret["content"]?.arrayValue?.first?["_meta"]?["sensitivity"] == .string("restricted"))
        #expect(secret["_meta"]?["dev.latch/sensitivity"] == .string("restricted"))
        await upstream.shutdown()
    }

    @Test("a changed tool definition shows in tools/list")
    func toolsVariant() async throws {
        let plain = try Self.upstream()
        let changed = try Self.upstream(options: ["--tools-variant", "2"])
        let before = try await plain.listTools().first { $0["name"] == .string("crm_lookup") }
        let after = try await changed.listTools().first { $0["name"] == .string("crm_lookup") }
        #expect(before != nil && after != nil && before != after)
        await plain.shutdown()
        await changed.shutdown()
    }

    @Test("50 concurrent calls on one process each get their own answer")
    func concurrentCalls() async throws {
        let upstream = try Self.upstream()
        let answers = try await MCPUpstreamChecks.concurrentEchoes(upstream)
        #expect(answers.count == 50)
        for (index, text) in answers { #expect(text == "message \(index)") }
        await upstream.shutdown()
    }

    @Test("a tool error is a result with isError; an unknown tool is a JSON-RPC error")
    func errors() async throws {
        let upstream = try Self.upstream()
        let failed = try await upstream.callTool(name: "fail", arguments: .object(["message": .string("disk on fire")]), meta: nil)
        #expect(failed["isError"] == .bool(true))
        #expect(Self.text(failed)?.contains("disk on fire") == true)

        let error = await #expect(throws: MCPUpstreamError.self) {
            try await upstream.callTool(name: "no_such_tool", arguments: nil, meta: nil)
        }
        guard case .rpcError(let code, let message, _) = error?.kind else {
            Issue.record("expected a JSON-RPC error, got \(String(describing: error))")
            return
        }
        #expect(code == -32602)
        #expect(message.contains("no_such_tool"))
        // The process is still serving.
        #expect(try await Self.echo(upstream, "still here") == "still here")
        await upstream.shutdown()
    }

    @Test("_meta reaches the upstream; the upstream's ping is answered and its other requests refused")
    func metaAndServerRequests() async throws {
        let upstream = try Self.upstream()
        let meta: JSONValue = .object(["traceparent": .string("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
        let result = try await upstream.callTool(name: "whoami", arguments: nil, meta: meta)
        let seen = try #require(Self.text(result).flatMap { JSONValue(parsing: Array($0.utf8)) })
        #expect(seen["meta"] == meta)

        let probed = try await upstream.callTool(name: "probe_client", arguments: nil, meta: nil)
        let report = try #require(Self.text(probed).flatMap { JSONValue(parsing: Array($0.utf8)) })
        #expect(report["ping"] == .string("ok"))
        #expect(report["roots"] == .string("error -32601"))
        await upstream.shutdown()
    }

    #if os(Linux)
    @Test("the process inherits only stdin, stdout and stderr, not descriptors Latch opened without close-on-exec")
    func onlyStandardDescriptorsInherited() async throws {
        // A descriptor number the child's own opens will not reach: the lowest free one from
        // 4096 up. Not dup2 onto a fixed number: this process runs every suite at once (over a
        // thousand descriptors open), and dup2 would silently replace another test's descriptor,
        // such as a SQLite store's file (seen in CI as "disk I/O error" on a commit).
        let opened = open("/dev/null", O_RDONLY)
        try #require(opened >= 0)
        let leaked = fcntl(opened, F_DUPFD, 4096)
        close(opened)
        try #require(leaked >= 4096)
        defer { close(leaked) }
        #expect(fcntl(leaked, F_GETFD) & FD_CLOEXEC == 0, "the test descriptor must be inheritable")
        let upstream = try Self.upstream()
        let fds = try #require(try await Self.whoami(upstream)["fds"]?.arrayValue?.compactMap(\.intValue))
        #expect(Set(fds).isSuperset(of: [0, 1, 2]))
        #expect(!fds.contains(Int64(leaked)), "\(fds)")
        await upstream.shutdown()
    }
    #endif

    @Test("when the process dies, pending calls fail at once and the next call restarts it")
    func crashAndRestart() async throws {
        let upstream = try Self.upstream()
        let first = try #require(try await Self.whoami(upstream)["pid"]?.intValue)
        // A slow call is pending when another call crashes the process.
        let slow = Task { () async -> MCPUpstreamError? in
            do throws(MCPUpstreamError) {
                _ = try await upstream.callTool(name: "sleep", arguments: .object(["seconds": .int(30)]), meta: nil)
                return nil
            } catch {
                return error
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let crashed = await #expect(throws: MCPUpstreamError.self) {
            try await upstream.callTool(name: "crash", arguments: nil, meta: nil)
        }
        #expect(crashed?.kind == .unavailable)
        #expect(crashed?.reason.contains("upstream demo exited") == true, "\(String(describing: crashed))")
        let pending = await slow.value
        #expect(pending?.kind == .unavailable && pending?.reason.contains("exited") == true, "\(String(describing: pending))")

        // The next call starts a new process (after the restart backoff).
        #expect(try await Self.echo(upstream, "back") == "back")
        let second = try #require(try await Self.whoami(upstream)["pid"]?.intValue)
        #expect(second != first)
        #expect(!Self.isAlive(Int32(first)))
        await upstream.shutdown()
    }

    @Test("the credential reaches the process only through the configured environment, and is never logged")
    func credential() async throws {
        let records = RecordingLogHandler.Records()
        let secret = "sk-live-\(UUID().uuidString)"
        let right = try Self.upstream(
            options: ["--require-token", "EXPECTED_KEY"], environment: ["UPSTREAM_API_KEY": secret, "EXPECTED_KEY": secret], records: records)
        let seen = try await Self.whoami(right)
        #expect(seen["credential"] == .string("matched"))
        // Nothing of the test process's environment is inherited but PATH and HOME.
        let names = Set(seen["env"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(names.isSubset(of: ["UPSTREAM_API_KEY", "EXPECTED_KEY", "PATH", "HOME", "LC_CTYPE"]), "\(names)")
        let read = try await right.callTool(name: "read_file", arguments: .object(["path": .string("public/readme.txt")]), meta: nil)
        #expect(read["isError"] == .bool(false))

        let wrong = try Self.upstream(
            options: ["--require-token", "EXPECTED_KEY"], environment: ["UPSTREAM_API_KEY": "guess", "EXPECTED_KEY": secret], records: records)
        #expect(try await Self.whoami(wrong)["credential"] == .string("mismatched"))
        let refused = try await wrong.callTool(name: "read_file", arguments: .object(["path": .string("public/readme.txt")]), meta: nil)
        #expect(refused["isError"] == .bool(true))
        #expect(Self.text(refused)?.contains("unauthorized") == true)

        let missing = try Self.upstream(options: ["--require-token", "EXPECTED_KEY"], environment: ["EXPECTED_KEY": secret], records: records)
        #expect(try await Self.whoami(missing)["credential"] == .string("missing"))

        for upstream in [right, wrong, missing] { await upstream.shutdown() }
        #expect(!records.all.isEmpty)
        #expect(!records.all.contains { $0.contains(secret) }, "the credential must never be logged")
    }

    @Test("a call past the timeout fails, the upstream is told to cancel, and the process keeps serving")
    func timeout() async throws {
        let upstream = try Self.upstream(requestTimeout: .seconds(3))
        let before = try #require(try await Self.whoami(upstream)["pid"]?.intValue)
        let error = await #expect(throws: MCPUpstreamError.self) {
            try await upstream.callTool(name: "sleep", arguments: .object(["seconds": .int(60)]), meta: nil)
        }
        #expect(error?.kind == .unavailable)
        #expect(error?.reason.contains("did not answer tools/call within") == true, "\(String(describing: error))")
        #expect(try await Self.echo(upstream, "after") == "after")
        #expect(try await Self.whoami(upstream)["pid"]?.intValue == before)
        await upstream.shutdown()
    }

    @Test("a message over the size limit ends the connection; the next call starts afresh")
    func messageLimit() async throws {
        let upstream = try Self.upstream(maxMessageBytes: 2048)
        #expect(try await Self.echo(upstream, "small") == "small")
        // tools/list answers more than 2 KiB.
        let error = await #expect(throws: MCPUpstreamError.self) { try await upstream.listTools() }
        #expect(error?.kind == .unavailable)
        #expect(error?.reason.contains("over 2048 bytes") == true, "\(String(describing: error))")
        // A request over the limit is not sent.
        let large = await #expect(throws: MCPUpstreamError.self) { try await Self.echo(upstream, String(repeating: "x", count: 4096)) }
        #expect(large?.reason.contains("exceeds 2048 bytes") == true, "\(String(describing: large))")
        #expect(try await Self.echo(upstream, "again") == "again")
        await upstream.shutdown()
    }

    @Test("shutdown stops the process and refuses later calls")
    func shutdown() async throws {
        let upstream = try Self.upstream()
        #expect(try await Self.echo(upstream, "up") == "up")
        let pid = try #require(await upstream.processID)
        #expect(Self.isAlive(pid))
        await upstream.shutdown()
        #expect(!Self.isAlive(pid))
        #expect(await upstream.processID == nil)
        let error = await #expect(throws: MCPUpstreamError.self) { try await Self.echo(upstream, "down") }
        #expect(error?.reason.contains("shut down") == true)
    }

    @Test("a command that does not exist fails the call as unavailable")
    func missingCommand() async throws {
        let configuration = StdioMCPUpstream.Configuration(name: "ghost", command: "/nonexistent/mcp-server")
        let upstream = StdioMCPUpstream(configuration: configuration, logger: RecordingLogHandler.Records().logger())
        let error = await #expect(throws: MCPUpstreamError.self) { try await upstream.listTools() }
        #expect(error?.kind == .unavailable)
        #expect(error?.reason.contains("could not be started") == true, "\(String(describing: error))")
        await upstream.shutdown()
    }
}
