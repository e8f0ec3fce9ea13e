import Foundation
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import LatchTesting
import Logging
import Testing

@testable import LatchServer

@Suite("latch demo's tool server")
struct DemoToolServerTests {
    let server = DemoToolServer()

    func call(_ tool: String, _ arguments: [String: String]) async throws -> JSONValue {
        try await self.server.callTool(name: tool, arguments: .object(arguments.mapValues(JSONValue.string)), meta: nil)
    }

    static func text(_ result: JSONValue) -> String { result["content"]?.arrayValue?.first?["text"]?.stringValue ?? "" }

    @Test("lists five tools, each with a title, a description and an object inputSchema whose properties are all required strings")
    func definitions() async throws {
        let tools = try await self.server.listTools()
        #expect(tools.compactMap { $0["name"]?.stringValue } == ["read_file", "list_files", "crm_lookup", "send_email", "http_fetch"])
        for tool in tools {
            let schema = try #require(tool["inputSchema"])
            #expect(schema["type"] == .string("object"))
            #expect(schema["additionalProperties"] == .bool(false))
            let properties = try #require(schema["properties"]?.objectValue)
            #expect(properties.values.allSatisfy { $0["type"] == .string("string") })
            #expect(Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []) == Set(properties.keys))
            #expect(tool["title"]?.stringValue?.isEmpty == false && tool["description"]?.stringValue?.isEmpty == false)
        }
        let arguments = Dictionary(
            uniqueKeysWithValues: tools.map {
                ($0["name"]?.stringValue ?? "", Set($0["inputSchema"]?["properties"]?.objectValue?.keys.map { $0 } ?? []))
            })
        #expect(arguments["send_email"] == ["to", "subject", "body"])
        #expect(arguments["list_files"] == [])
    }

    @Test("read_file labels each file's result with its sensitivity in _meta, as the gateway reads it", arguments: DemoToolServer.files.map(\.path))
    func readFileLabels(_ path: String) async throws {
        let result = try await self.call("read_file", ["path": path])
        let file = try #require(DemoToolServer.files.first { $0.path == path })
        #expect(result["_meta"]?[MCPGateway.sensitivityMetaKey] == .string(file.sensitivity.rawValue))
        #expect(Self.text(result) == file.text)
        #expect(result["isError"] == nil)
        #expect(result["content"]?.arrayValue?.first?["type"] == .string("text"))
    }

    @Test("the files span public to restricted")
    func fileLabels() {
        #expect(DemoToolServer.files.map(\.sensitivity) == [.public, .internal, .restricted])
        #expect(DemoToolServer.files.first { $0.path == "secret/salaries.csv" }?.sensitivity == .restricted)
    }

    @Test("list_files, crm_lookup, send_email and http_fetch answer canned text")
    func otherTools() async throws {
        let listing = try #require(JSONValue(parsing: Array(Self.text(try await self.call("list_files", [:])).utf8)))
        #expect(listing.arrayValue?.compactMap { $0["path"]?.stringValue } == ["public/readme.txt", "internal/roadmap.md", "secret/salaries.csv"])
        #expect(listing.arrayValue?.last?["sensitivity"] == .string("restricted"))

        let acme = try #require(JSONValue(parsing: Array(Self.text(try await self.call("crm_lookup", ["customer": "ACME"])).utf8)))
        #expect(acme["tier"] == .string("gold") && acme["customer"] == .string("acme"))

        let sent = try await self.call("send_email", ["to": "sales@example.com", "subject": "s", "body": "b"])
        #expect(Self.text(sent).hasPrefix("sent to sales@example.com"))
        #expect(sent["isError"] == nil)

        let page = try await self.call("http_fetch", ["url": "https://example.com/x"])
        #expect(Self.text(page) == "<html><body>canned page for https://example.com/x</body></html>")
    }

    @Test(
        "bad arguments are tool errors (isError), not JSON-RPC errors",
        arguments: [
            ("read_file", ["path": "etc/passwd"], "no such file: etc/passwd"),
            ("read_file", [:], "read_file: the argument path (a string) is required"),
            ("read_file", ["path": "public/readme.txt", "mode": "w"], "read_file: unknown argument mode"),
            ("crm_lookup", ["customer": "initech"], "no customer named initech"),
            ("send_email", ["to": "a@example.com", "subject": "s"], "send_email: the argument body (a string) is required"),
            ("http_fetch", ["url": "file:///etc/passwd"], "http_fetch: the url must be http:// or https://"),
        ])
    func toolErrors(_ tool: String, _ arguments: [String: String], _ message: String) async throws {
        let result = try await self.call(tool, arguments)
        #expect(result["isError"] == .bool(true))
        #expect(Self.text(result) == message)
        #expect(result["_meta"] == nil, "an error carries no sensitivity label")
    }

    @Test("a non-string argument is a tool error")
    func nonStringArgument() async throws {
        let result = try await self.server.callTool(name: "read_file", arguments: .object(["path": .int(3)]), meta: nil)
        #expect(result["isError"] == .bool(true))
    }

    @Test("a tool it does not have is a JSON-RPC error -32602")
    func unknownTool() async {
        do {
            _ = try await self.server.callTool(name: "rm_rf", arguments: nil, meta: nil)
            Issue.record("an unknown tool answered")
        } catch {
            #expect(error.kind == .rpcError(code: -32602, message: "Unknown tool: rm_rf", data: nil))
        }
    }

    @Test("its configuration serves every tool in process, send_email and http_fetch as external egress with a destination")
    func configuration() async throws {
        let configuration = self.server.configuration
        #expect(configuration.name == "demo" && configuration.transport == .inProcess)
        for tool in try await self.server.listTools().compactMap({ $0["name"]?.stringValue }) {
            #expect(configuration.labels(for: tool) != nil, "\(tool) would not be served")
        }
        #expect(
            configuration.labels(for: "send_email")
                == ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write, destinationArgument: "to"))
        #expect(configuration.labels(for: "http_fetch")?.egress == .external)
        #expect(configuration.labels(for: "read_file")?.dataDomain == "docs")
        #expect(configuration.labels(for: "crm_lookup")?.dataDomain == "sales")
    }

    @Test("the embedded policies are Examples/gateway/policies.cedar")
    func policiesMirrorTheExample() throws {
        let example = try String(contentsOf: InteropScripts.repoRoot.appendingPathComponent("Examples/gateway/policies.cedar"), encoding: .utf8)
        #expect(DemoPolicies.text == example, "update DemoPolicies.text to match Examples/gateway/policies.cedar")
    }
}

@Suite("an in-process upstream in the gateway service")
struct InProcessUpstreamTests {
    static let logger = Logger(label: "latch.test")

    /// The gateway service `latch serve` would build for `configuration`, over an in-memory store.
    static func service(
        _ configuration: ServerConfiguration, inProcess: [any MCPUpstream], onFirstRound: @escaping @Sendable () -> Void = {}
    ) async throws -> GatewayService {
        let store = InMemoryIdentityStore()
        let clock = TestWallClock()
        let identity = IdentityService(
            configuration: IdentityConfiguration(
                trustDomain: TestKeys.trustDomain, x509Rotation: KeyRotationPolicy(keyLifetime: 3_600_000),
                jwtRotation: KeyRotationPolicy(keyLifetime: 3_600_000)),
            store: store, sealer: KeySealer(kek: TestKeys.kek), clock: clock)
        let state = IdentityState(try await IdentityWatcher.initialSnapshot(identity: identity, store: store))
        let policies = try LatchServer.loadPolicies(configuration: configuration, logger: Self.logger)
        let authority = try await LatchServer.grantAuthority(
            configuration: configuration, policies: policies, store: store, state: state, clock: clock, logger: Self.logger)
        return try LatchServer.gateway(
            configuration: configuration, policies: policies, authority: authority, store: store, state: state, issuer: { "http://127.0.0.1:1" },
            kek: TestKeys.kek, ledgerKey: TestKeys.ledgerKey, inProcess: inProcess, clock: clock, metrics: GatewayMetrics(), logger: Self.logger,
            onFirstRound: onFirstRound)
    }

    @Test("is listed and served with its configured labels from the first round on")
    func served() async throws {
        let server = DemoToolServer()
        var configuration = ServerConfiguration.defaults
        configuration.upstreams = [server.configuration]
        let (rounds, round) = AsyncStream<Void>.makeStream()
        let service = try await Self.service(configuration, inProcess: [server], onFirstRound: { round.yield() })
        let running = Task { try await service.run() }
        defer { running.cancel() }
        for await _ in rounds { break }
        let gateway = await service.gateway
        let catalog = gateway.current.catalog
        #expect(catalog.tools.map(\.name) == ["demo.read_file", "demo.list_files", "demo.crm_lookup", "demo.send_email", "demo.http_fetch"])
        #expect(catalog["demo.send_email"]?.labels.egress == .external)
        #expect(gateway.current.upstreams["demo"] != nil)
        running.cancel()
        _ = await running.result
    }

    @Test("a configured in-process upstream without its server, or a server no upstream names, fails the start")
    func mismatched() async throws {
        var configuration = ServerConfiguration.defaults
        configuration.upstreams = [DemoToolServer().configuration]
        await #expect(throws: LatchError.self) { _ = try await Self.service(configuration, inProcess: []) }
        await #expect(throws: LatchError.self) { _ = try await Self.service(configuration, inProcess: [DemoToolServer(name: "other")]) }
        configuration.upstreams = []
        await #expect(throws: LatchError.self) { _ = try await Self.service(configuration, inProcess: [DemoToolServer()]) }
    }
}
