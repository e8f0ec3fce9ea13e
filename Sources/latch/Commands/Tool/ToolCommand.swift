import ArgumentParser
import LatchGateway

/// `latch tool …`: the pinned definitions of upstream tools in the store the configuration names
/// (see the README's "Tool pinning").
struct ToolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tool",
        abstract: "List, show and accept pinned upstream tool definitions.",
        subcommands: [ToolListCommand.self, ToolShowCommand.self, ToolAcceptCommand.self]
    )

    /// Parses `UPSTREAM.TOOL` at the first dot (upstream names have none), as a usage error
    /// (exit 64) when it is not one.
    static func name(_ text: String) throws -> (upstream: String, tool: String) {
        guard let dot = text.firstIndex(of: ".") else { throw ValidationError("name the tool as UPSTREAM.TOOL, e.g. crm.crm_lookup") }
        let upstream = String(text[..<dot])
        let tool = String(text[text.index(after: dot)...])
        guard UpstreamConfiguration.isValidName(upstream), ToolPin.isPinnableName(tool) else {
            throw ValidationError("name the tool as UPSTREAM.TOOL: the upstream's configured name, a dot, the upstream's name for the tool")
        }
        return (upstream, tool)
    }

    /// The pins of one tool: its accepted and pending definitions. Opens the store (once per
    /// process: it sets up logging).
    static func pins(_ name: (upstream: String, tool: String), server: ServerOptions) async throws -> (accepted: ToolPin?, pending: ToolPin?) {
        let upstream = name.upstream
        let pins = try await server.withStore { store in try await store.toolPins(upstream: upstream) }.filter { $0.tool == name.tool }
        return (pins.first { $0.status == .accepted }, pins.first { $0.status == .pending })
    }
}
