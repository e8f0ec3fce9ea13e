import ArgumentParser
import Foundation
import LatchCore
import LatchServer
import Logging

/// Where the configuration comes from, shared by `latch serve` and `latch entry`: an optional
/// YAML file, then these flags on top.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (keys in the README's Configuration table).")
    var config: String?

    @Option(name: .customLong("data-dir"), help: "Data directory (SQLite store, default KEK file and socket). Default: latch-data.")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "sqlite (default) or a postgres:// URL.")
    var databaseURL: String?

    @Option(name: .customLong("trust-domain"), help: "SPIFFE trust domain. Default: latch.local.")
    var trustDomain: String?

    /// The file's settings with the flags applied.
    func configuration() throws -> ServerConfiguration {
        var configuration: ServerConfiguration
        if let path = self.config {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("cannot read the configuration file \(path)")
            }
            do { configuration = try ServerConfiguration(yaml: text) } catch {
                throw ValidationError("\(path): \(error.message)")
            }
        } else {
            configuration = .defaults
        }
        if let dataDirectory { configuration.dataDirectory = dataDirectory }
        if let databaseURL { configuration.databaseURL = databaseURL }
        if let trustDomain {
            do { configuration.trustDomain = try TrustDomain(parsing: trustDomain) } catch {
                throw ValidationError("--trust-domain: \(error.message)")
            }
        }
        return configuration
    }
}

extension ServerOptions {
    /// Opens the configured store for `body` (`latch entry`, `latch grant`). Store errors exit 1
    /// with the message on stderr.
    func withStore<Result: Sendable>(_ body: @Sendable (any LatchStore) async throws -> Result) async throws -> Result {
        let configuration = try self.configuration()
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        do {
            return try await StoreAccess.withStore(
                databaseURL: configuration.databaseURL, dataDirectory: configuration.dataDirectory, logger: Logger(label: "latch.cli"), body)
        } catch let error as LatchError {
            PolicyCommand.writeError("error: \(error.message)")
            throw ExitCode(1)
        }
    }
}
