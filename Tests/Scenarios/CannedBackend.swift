import LatchIdentity
import Synchronization

@testable import LatchGateway

/// The only fake in the scenarios: an upstream MCP server that lists the scenario's tools and
/// answers each call with the output the current step gives, counting what reached it.
final class CannedBackend: MCPUpstream {
    struct Call: Sendable {
        var tool: String
        var arguments: JSONValue?
    }

    private struct State {
        var definitions: [String: JSONValue] = [:]
        var order: [String] = []
        /// The next answer per tool (the step about to run sets it).
        var outputs: [String: (text: String, sensitivity: String?)] = [:]
        var calls: [Call] = []
    }

    let name: String
    private let state = Mutex(State())

    init(name: String) { self.name = name }

    /// Lists `tool` (its upstream name) with `description` and `schema`, replacing what it listed before.
    func define(tool: String, description: String, schema: JSONValue?) {
        let definition: JSONValue = .object([
            "name": .string(tool), "description": .string(description),
            "inputSchema": schema ?? .object(["type": .string("object")]),
        ])
        self.state.withLock {
            if $0.definitions[tool] == nil { $0.order.append(tool) }
            $0.definitions[tool] = definition
        }
    }

    /// What the next call of `tool` returns (with `sensitivity` as the result's own label when given).
    func prepare(tool: String, output: String, sensitivity: String?) {
        self.state.withLock { $0.outputs[tool] = (output, sensitivity) }
    }

    var calls: [Call] { self.state.withLock { $0.calls } }

    func listTools() async throws(MCPUpstreamError) -> [JSONValue] {
        self.state.withLock { state in state.order.compactMap { state.definitions[$0] } }
    }

    func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue {
        let output = self.state.withLock { state in
            state.calls.append(Call(tool: name, arguments: arguments))
            return state.outputs.removeValue(forKey: name)
        }
        var result: [String: JSONValue] = [
            "content": .array([.object(["type": .string("text"), "text": .string(output?.text ?? "done")])]), "isError": .bool(false),
        ]
        if let sensitivity = output?.sensitivity { result["_meta"] = .object([MCPGateway.sensitivityMetaKey: .string(sensitivity)]) }
        return .object(result)
    }

    func shutdown() async {}
}
