import Crypto
public import LatchIdentity

/// A tool as Latch serves it to agents: an upstream's tool under its namespaced name, with the
/// operator's labels.
public struct GatewayTool: Hashable, Sendable {
    /// `<upstream>.<tool>`: what agents call it, what grants and policies name.
    public let name: String
    /// The configured upstream serving it.
    public let upstream: String
    /// The upstream's own name for it.
    public let upstreamName: String
    /// The definition agents see: the upstream's, with `name` replaced by ``name``.
    public let definition: JSONValue
    public let labels: ToolLabels
    /// Lowercase hex SHA-256 of the upstream's definition in canonical JSON (sorted keys, no
    /// whitespace): what an operator pins.
    public let digest: String

    /// Builds the served tool from one entry of an upstream's `tools/list`, or nil when the
    /// entry is not an object with a string `name`.
    public init?(upstream: String, definition: JSONValue, labels: ToolLabels) {
        guard case .object(var object) = definition, let upstreamName = object["name"]?.stringValue, !upstreamName.isEmpty else {
            return nil
        }
        self.upstream = upstream
        self.upstreamName = upstreamName
        self.name = upstream + "." + upstreamName
        self.labels = labels
        self.digest = hexString(SHA256.hash(data: definition.serializedBytes))
        object["name"] = .string(self.name)
        self.definition = .object(object)
    }

    /// The definition as the upstream listed it (under its own name): what ``digest`` hashes and
    /// what a pin keeps.
    public var upstreamDefinition: JSONValue {
        guard case .object(var object) = self.definition else { return self.definition }
        object["name"] = .string(self.upstreamName)
        return .object(object)
    }
}

/// Every tool Latch serves, by namespaced name. Immutable: a refresh builds a new catalog.
public struct ToolCatalog: Sendable {
    /// Tools in the order the upstreams listed them (upstreams in configuration order).
    public let tools: [GatewayTool]
    private let byName: [String: Int]

    public init(_ tools: [GatewayTool]) {
        var byName: [String: Int] = [:]
        var kept: [GatewayTool] = []
        for tool in tools where byName[tool.name] == nil {
            byName[tool.name] = kept.count
            kept.append(tool)
        }
        self.tools = kept
        self.byName = byName
    }

    public subscript(name: String) -> GatewayTool? { self.byName[name].map { self.tools[$0] } }
}
