import ArgumentParser

/// `latch policy …`: work with Cedar policies offline.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, format and evaluate Cedar policies.",
        subcommands: [CheckCommand.self, FormatCommand.self, EvalCommand.self]
    )
}
