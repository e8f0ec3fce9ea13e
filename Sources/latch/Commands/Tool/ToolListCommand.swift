import ArgumentParser
import LatchGateway
import LatchIdentity

/// `latch tool list [--json]`
struct ToolListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List pinned tool definitions: accepted ones, and pending ones (their tools are disabled).",
        discussion: """
            One line per definition: upstream, tool, accepted or pending, the digest's first 12 hex digits and when it was \
            first seen (UTC). A tool with a pending definition is not served until `latch tool accept` accepts it.
            """
    )

    @OptionGroup var server: ServerOptions

    @Flag(help: "Print a JSON array ({upstream, tool, status, digest, first_seen, accepted_at, accepted_by}; times in ms) instead of lines.")
    var json = false

    func run() async throws {
        let pins = try await self.server.withStore { store in try await store.toolPins(upstream: nil) }
        if self.json {
            print(JSONValue.array(pins.map(ToolOutput.summary)).serialized)
        } else {
            print(ToolOutput.table(pins), terminator: "")
        }
    }
}
