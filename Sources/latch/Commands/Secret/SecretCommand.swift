import ArgumentParser
import LatchCore
import LatchSecrets

/// `latch secret …`: sealed secrets (the credentials the gateway injects upstream) in the store
/// the configuration names. Values go in through standard input or a file, never as an argument
/// (which would land in shell history and `ps`), and never come out.
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Set, list and delete sealed secrets (values are never printed).",
        subcommands: [SecretSetCommand.self, SecretListCommand.self, SecretDeleteCommand.self]
    )

    /// Parses a NAME argument, as a usage error (exit 64) when it is not a secret name.
    static func name(_ text: String) throws -> SecretName {
        do { return try SecretName(parsing: text) } catch { throw ValidationError("NAME: \(error.message)") }
    }
}
