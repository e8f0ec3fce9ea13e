import ArgumentParser

/// The `latch` command line: a thin entry point; each command lives in `Commands/<Group>/`.
@main
struct Latch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latch",
        abstract: "Latch: the runtime access layer for AI agents.",
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, DemoCommand.self, EntryCommand.self, GrantCommand.self, SecretCommand.self, AuditCommand.self, ToolCommand.self,
            ApprovalsCommand.self, OperatorCommand.self, QuarantineCommand.self, APICommand.self, PolicyCommand.self,
        ]
    )
}
