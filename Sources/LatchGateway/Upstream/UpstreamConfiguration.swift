/// One upstream MCP server in the configuration (`upstreams`): how to reach it, the credential
/// it needs, and the labels of its tools.
///
/// Invariants (checked where the configuration is read): `name` is lowercase letters, digits,
/// `-` or `_` (it prefixes tool names: `<name>.<tool>`); names are unique.
public struct UpstreamConfiguration: Hashable, Sendable {
    public enum Transport: Hashable, Sendable {
        /// A process Latch spawns, speaking MCP over stdin/stdout. `environment` values may hold
        /// `${secret:NAME}` templates.
        case stdio(command: String, arguments: [String], environment: [String: String])
        /// A Streamable HTTP endpoint. `headers` values may hold `${secret:NAME}` templates.
        case http(url: String, headers: [String: String])
        /// An MCP server inside Latch's own process (`latch demo`'s tool server), handed to the
        /// server when it starts; never read from a configuration file. It needs no credential.
        case inProcess
    }

    public var name: String
    public var transport: Transport
    /// Labels of every tool the upstream lists that ``tools`` does not name; nil: such tools are
    /// not served (an unlabelled tool is never exposed).
    public var defaultLabels: ToolLabels?
    /// Labels by the upstream's own tool name.
    public var tools: [String: ToolLabels]
    /// How long one call may take (default 30 s).
    public var callTimeout: Duration

    public init(
        name: String, transport: Transport, defaultLabels: ToolLabels? = nil, tools: [String: ToolLabels] = [:], callTimeout: Duration = .seconds(30)
    ) {
        self.name = name
        self.transport = transport
        self.defaultLabels = defaultLabels
        self.tools = tools
        self.callTimeout = callTimeout
    }

    /// The labels of one of its tools; nil when the tool is not to be served.
    public func labels(for tool: String) -> ToolLabels? { self.tools[tool] ?? self.defaultLabels }

    /// Whether `name` is a valid upstream name.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }
}
