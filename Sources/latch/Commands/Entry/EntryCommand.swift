import ArgumentParser
import LatchCore
import LatchIdentity
import LatchServer
import Logging

/// `latch entry …`: registration entries (selectors → SPIFFE ID), in the store the configuration
/// names. Works before the server starts and while it runs: the server reloads entries when the
/// store's revision moves (within `entry_poll_interval`).
struct EntryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entry",
        abstract: "Create, list, show and delete registration entries.",
        subcommands: [EntryCreateCommand.self, EntryListCommand.self, EntryShowCommand.self, EntryDeleteCommand.self]
    )

    /// Opens the configured store for `body`. Store errors exit 1 with the message on stderr.
    static func withStore<Result: Sendable>(
        _ options: ServerOptions, _ body: @Sendable (any IdentityStore) async throws -> Result
    ) async throws -> Result {
        let configuration = try options.configuration()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            return try await StoreAccess.withStore(
                databaseURL: configuration.databaseURL, dataDirectory: configuration.dataDirectory,
                logger: Logger(label: "latch.entry"), body)
        } catch let error as LatchError {
            PolicyCommand.writeError("error: \(error.message)")
            throw ExitCode(1)
        }
    }
}
