/// Sends one request to an HTTP API and reads its whole answer: how the egress endpoint reaches
/// APIs (implemented over an HTTP client by the server; the gateway's logic needs none).
///
/// An implementation must not follow redirects (a credential must not follow one elsewhere),
/// must give up after `timeout`, and must stop reading a body over `maxResponseBytes`.
public protocol HTTPAPITransport: Sendable {
    func send(_ request: HTTPAPIRequest) async throws(HTTPAPIError) -> HTTPAPIResponse
}

/// A request to an HTTP API, credential headers included.
public struct HTTPAPIRequest: Sendable {
    public var method: String
    /// The absolute URL, query included.
    public var url: String
    /// In order, duplicates kept; values may be credentials: never log them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// How long the exchange may take, the whole response included.
    public var timeout: Duration
    /// The largest response body read.
    public var maxResponseBytes: Int

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration, maxResponseBytes: Int) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// An HTTP API's answer, whatever its status.
public struct HTTPAPIResponse: Sendable {
    public var status: Int
    /// Names as the API sent them, in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why an HTTP API gave no answer. The reason names the failure, never a header or the URL's
/// query (either may hold a credential).
public struct HTTPAPIError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// Unreachable, the connection broke, or the answer could not be read.
        case unavailable
        /// No whole answer within the timeout.
        case timeout
        /// The answer's body is larger than the limit.
        case tooLarge
    }

    public var kind: Kind
    public var reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { self.reason }
}
