import ArgumentParser

/// `latch entry …`: registration entries (selectors → SPIFFE ID), in the store the configuration
/// names. Works before the server starts and while it runs: the server reloads entries when the
/// store's revision moves (within `entry_poll_interval`).
struct EntryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entry",
        abstract: "Create, list, show and delete registration entries.",
        subcommands: [EntryCreateCommand.self, EntryListCommand.self, EntryShowCommand.self, EntryDeleteCommand.self]
    )
}
