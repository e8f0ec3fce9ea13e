import ArgumentParser
import LatchGateway
import LatchIdentity

/// `latch tool show UPSTREAM.TOOL`
struct ToolShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a tool's accepted and pending definitions as JSON, to review before accepting.",
        discussion: """
            Prints {"tool", "accepted", "pending"}, each definition with its digest, times and who accepted it (null where \
            there is none), indented with sorted keys so two definitions diff line by line. Exit 1 if the tool has no pin.
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The tool as agents name it: UPSTREAM.TOOL.")
    var tool: String

    func run() async throws {
        let name = try ToolCommand.name(self.tool)
        let pins = try await ToolCommand.pins(name, server: self.server)
        guard pins.accepted != nil || pins.pending != nil else {
            PolicyCommand.writeError("error: no definition of \(AuditOutput.printable(self.tool)) is pinned")
            throw ExitCode(1)
        }
        let object: JSONValue = .object([
            "tool": .string(name.upstream + "." + name.tool),
            "accepted": pins.accepted.map(ToolOutput.detail) ?? .null,
            "pending": pins.pending.map(ToolOutput.detail) ?? .null,
        ])
        print(ToolOutput.reviewable(object))
    }
}
