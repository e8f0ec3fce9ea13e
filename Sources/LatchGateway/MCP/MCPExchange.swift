/// One HTTP request to the gateway's MCP endpoint, as the HTTP layer hands it over: only what
/// MCP's Streamable HTTP transport and the authentication need, so the gateway's logic runs
/// (and is tested) without a server.
public struct MCPHTTPRequest: Sendable {
    /// `POST`, `GET`, `DELETE`, …
    public var method: String
    /// Header values by lowercase name, every occurrence in order (a duplicated header is seen
    /// as such).
    public var headers: [String: [String]]
    public var body: [UInt8]

    public init(method: String, headers: [String: [String]], body: [UInt8]) {
        self.method = method
        self.headers = headers
        self.body = body
    }

    /// The header's single value; nil when absent. `duplicated` when it occurs more than once.
    func header(_ name: String) -> HeaderValue {
        guard let values = self.headers[name], let first = values.first else { return .absent }
        return values.count == 1 ? .value(first) : .duplicated
    }

    enum HeaderValue: Equatable {
        case absent, duplicated
        case value(String)
        var value: String? { if case .value(let v) = self { v } else { nil } }
    }
}

/// The gateway's answer: status, headers and body for the HTTP layer to send as they are.
public struct MCPHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
