public import LatchIdentity

/// One MCP server that Latch forwards tool calls to: spawned over stdio, or reached over
/// Streamable HTTP. Latch is its only client; agents never talk to it directly.
///
/// Implementations hold whatever credential the upstream needs (an environment variable of the
/// spawned process, a header on every HTTP request) and never expose it.
public protocol MCPUpstream: Sendable {
    /// The upstream's name from the configuration: the namespace of its tools (`<name>.<tool>`).
    var name: String { get }

    /// Every tool the upstream lists (`tools/list`, all pages): each the tool's JSON object
    /// exactly as the upstream sent it.
    func listTools() async throws(MCPUpstreamError) -> [JSONValue]

    /// Calls one of the upstream's tools (its own name, not the namespaced one) and returns the
    /// JSON-RPC `result` object as the upstream sent it.
    ///
    /// - Parameters:
    ///   - meta: the `_meta` object forwarded to the upstream (e.g. W3C trace context), if any.
    func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue

    /// Stops the upstream (terminates a spawned process, closes connections).
    func shutdown() async
}

/// Why an upstream could not answer.
public struct MCPUpstreamError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The upstream answered with a JSON-RPC error object.
        case rpcError(code: Int64, message: String, data: JSONValue?)
        /// The upstream is not running, died, timed out, or sent something that is not JSON-RPC.
        case unavailable
    }

    public let kind: Kind
    /// What went wrong, for logs and the agent; never a credential.
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { self.reason }
}
