import CedarPolicy
import LatchCore
import LatchGateway
import LatchGrants
import LatchIdentity
import Testing

@Suite("HTTP egress: verb classes, headers and paths")
struct HTTPEgressRulesTests {
    @Test(
        "each forwarded method has a class, and the class its least side effects",
        arguments: [
            ("GET", HTTPVerbClass.read), ("HEAD", .read), ("POST", .write), ("PUT", .write), ("PATCH", .write), ("DELETE", .delete),
        ])
    func verbClasses(method: String, expected: HTTPVerbClass) {
        #expect(HTTPVerbClass(method: method) == expected)
    }

    @Test("methods that are not forwarded have no class", arguments: ["OPTIONS", "TRACE", "CONNECT", "get", "PROPFIND", ""])
    func unforwarded(method: String) {
        #expect(HTTPVerbClass(method: method) == nil)
    }

    @Test("an API's tools are <api>.<class>; side effects follow the class unless the labels raise them")
    func labels() {
        let plain = HTTPAPIConfiguration(name: "weather", baseURL: "https://api.weather.example:8443/v1")
        #expect(plain.toolName(.read) == "weather.read" && plain.toolName(.delete) == "weather.delete")
        #expect(plain.host == "api.weather.example")
        #expect(plain.labels(for: .read) == ToolLabels(egress: .external, sideEffects: .none))
        #expect(plain.labels(for: .write).sideEffects == .write)
        #expect(plain.labels(for: .delete).sideEffects == .destructive)
        let lowered = HTTPAPIConfiguration(name: "cache", baseURL: "http://cache", labels: ToolLabels(egress: .internal, sideEffects: .none))
        #expect(lowered.labels(for: .delete).sideEffects == .destructive, "labels cannot make a DELETE harmless")
        #expect(lowered.labels(for: .read).egress == .internal)
        let raised = HTTPAPIConfiguration(name: "legacy", baseURL: "http://legacy", labels: ToolLabels(sideEffects: .write))
        #expect(raised.labels(for: .read).sideEffects == .write, "an API whose GETs change things")
    }

    @Test("the agent's credentials, hop-by-hop headers and injected names never reach the API; Latch's credential and trace do")
    func forwardedHeaders() {
        let agent: [(name: String, value: String)] = [
            ("Authorization", "DPoP grant"), ("DPoP", "proof"), ("Cookie", "session=1"), ("Host", "latch.local"), ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "1"), ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked"), ("Content-Length", "12"),
            ("Proxy-Authorization", "Basic x"),
            ("Proxy-Anything", "y"), ("Accept-Encoding", "gzip"), ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ("x-api-key", "agent-guess"), ("Content-Type", "application/json"), ("Accept", "application/json"), ("X-Custom", "a"), ("X-Custom", "b"),
            ("X-Bad", "line\r\nInjected: 1"),
        ]
        let headers = EgressHeaders.forwarded(
            agent, injected: [("X-API-Key", "real-key")], traceParent: "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01",
            traceState: "vendor=1")
        #expect(headers.map(\.name) == ["Content-Type", "Accept", "X-Custom", "X-Custom", "X-API-Key", "traceparent", "tracestate"])
        #expect(
            headers.map(\.value) == [
                "application/json", "application/json", "a", "b", "real-key", "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01", "vendor=1",
            ])
    }

    @Test("header names must be tokens and values free of CR, LF and NUL")
    func headerValidity() {
        #expect(EgressHeaders.isValid(name: "X-API-Key", value: "abc def"))
        #expect(!EgressHeaders.isValid(name: "X API", value: "v"))
        #expect(!EgressHeaders.isValid(name: "", value: "v"))
        #expect(!EgressHeaders.isValid(name: "X", value: "a\rb"))
        #expect(!EgressHeaders.isValid(name: "X", value: "a\nb"))
        #expect(!EgressHeaders.isValid(name: "X", value: "a\u{0}b"))
    }

    @Test(
        "a path names the API and the rest as sent",
        arguments: [
            ("/egress/weather/v1/forecast", "weather", "/v1/forecast"), ("/egress/weather", "weather", ""), ("/egress/weather/", "weather", "/"),
            ("/egress/w/a%20b/%2F", "w", "/a%20b/%2F"),
        ])
    func paths(path: String, api: String, rest: String) throws {
        let parsed = try #require(EgressPath(path: path))
        #expect(parsed.api == api && parsed.rest == rest)
        #expect(parsed.problem == nil)
    }

    @Test(
        "paths that are not under /egress/<api> are not egress paths", arguments: ["/egress/", "/egress", "/mcp", "/egress//x", "/egressweather/x"])
    func notEgress(path: String) {
        #expect(EgressPath(path: path) == nil)
    }

    @Test(
        "a rest that could climb out of the base URL is refused",
        arguments: ["/../admin", "/a/..", "/%2e%2E/admin", "/./x", "/%2E", "/a%5c..%5cb", "/a\\b", "/bad%zz", "/bad%4"])
    func traversal(path: String) throws {
        let parsed = try #require(EgressPath(path: "/egress/api" + path))
        #expect(parsed.problem != nil, "\(path)")
    }

    @Test("an HTTP API call is decided as its tool, with its host as destination and the request in context.http")
    func decision() throws {
        var set = PolicySet()
        for var policy in try CedarParser.parsePolicies(
            """
            @id("reads") permit (principal, action == Latch::Action::"CallTool", resource == Latch::Tool::"weather.read")
            when { context.destination == "api.weather.example" && context.http.method == "GET" && context.http.path like "/v1/*" };
            """)
        {
            policy.id = policy.annotation("id") ?? policy.id
            try set.add(policy)
        }
        let policy = ToolCallPolicy(policies: set) { _ in [:] }
        let api = HTTPAPIConfiguration(name: "weather", baseURL: "https://api.weather.example/")
        let agent = try SPIFFEID(parsing: "spiffe://gw.test/agents/a")
        let grant = TaskGrant(
            id: "g1", taskID: "t1", subject: agent, audience: ["latch-gateway"], intent: "forecast",
            scope: GrantScope(tools: ["weather.read"], dataDomains: [], destinations: [], maxSensitivity: .internal), issuedAt: 0,
            expiresAt: 300_000, keyThumbprint: "jkt")
        func decide(_ verb: HTTPVerbClass, path: String) throws -> CallDecision {
            let tool = try #require(
                GatewayTool(upstream: "weather", definition: .object(["name": .string(verb.rawValue)]), labels: api.labels(for: verb)))
            let http: [String: Value] = [
                "http": .record(["method": .string(verb == .read ? "GET" : "POST"), "path": .string(path), "query": .string("")])
            ]
            return policy.decide(
                grant: grant, tool: tool, arguments: [:], fixedDestination: api.host, context: http, facts: SessionFacts(), now: 1000)
        }
        let allowed = try decide(.read, path: "/v1/forecast")
        #expect(allowed.allowed && allowed.destination == "api.weather.example" && allowed.policies == ["reads"])
        #expect(try decide(.read, path: "/admin").reason?.code == DenialReason.policyDenied)
        #expect(try decide(.write, path: "/v1/forecast").reason?.code == DenialReason.toolNotInGrant)
    }
}
