import ArgumentParser
import Foundation
import LatchCore
import LatchServer
import Logging

/// `latch serve`: run the Workload API, the HTTP endpoints and CA rotation until SIGTERM/SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run Latch: the SPIFFE Workload API on a unix socket and the bundle/JWKS/OIDC endpoints over HTTP.",
        discussion: """
            Settings come from --config (YAML; every key is listed in the README), then these flags. \
            On first start the CA keys are created, sealed under the key-encryption key, and stored. \
            Registration entries are managed with `latch entry`; a running server picks changes up \
            within entry_poll_interval (default 1 s), without a restart.
            """
    )

    @OptionGroup var server: ServerOptions

    @Option(name: .long, help: "host:port of the HTTP endpoints (port 0 picks one). Default: 127.0.0.1:8080.")
    var listen: String?

    @Option(name: .customLong("workload-api-socket"), help: "Path of the Workload API socket. Default: <data-dir>/public/workload.sock.")
    var workloadAPISocket: String?

    func run() async throws {
        var configuration = try self.server.configuration()
        if let listen { configuration.listen = listen }
        if let workloadAPISocket { configuration.workloadAPISocket = workloadAPISocket }
        _ = try configuration.listenAddress()
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        // Lines as StreamLogHandler writes them; metadata formatted only for lines written.
        LoggingSystem.bootstrap { label in DeferredMetadataLogHandler.standardError(label: label, level: level) }
        let logger = Logger(label: "latch")
        do {
            try await LatchServer.run(
                configuration: configuration, environment: ProcessInfo.processInfo.environment, logger: logger,
                onReady: { endpoints in
                    // One line on standard output, for scripts and tests waiting for readiness.
                    PolicyCommand.writeOut("latch ready socket=\(endpoints.workloadAPISocket) http=\(endpoints.http)\n")
                })
        } catch let error as LatchError {
            logger.critical("latch serve failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
