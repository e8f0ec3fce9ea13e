import ArgumentParser

/// `latch policy …`: work with Cedar policies offline, and replay recorded calls under new ones.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, format and evaluate Cedar policies; replay recorded calls under candidate policies.",
        subcommands: [CheckCommand.self, FormatCommand.self, EvalCommand.self, ReplayCommand.self]
    )
}
