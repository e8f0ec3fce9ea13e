import ArgumentParser
import LatchServer
import Logging

/// `latch demo [--serve] [--data-dir DIR] [--verbose]`
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run Latch with a built-in tool server and a scripted agent, and show what it allows and denies.",
        discussion: """
            No set-up: Latch starts on SQLite in a temporary directory, listening on 127.0.0.1 (a free \
            port) and a Workload API socket, with the sample gateway policies and an in-process MCP tool \
            server (files labelled public to restricted, a CRM lookup, send_email, http_fetch). A scripted \
            agent registers your user, fetches a JWT-SVID, trades it for a DPoP-bound task grant, calls \
            tools (allowed, out of scope, stopped from mailing after reading a restricted file), completes \
            its task and finds its grant dead. Each step is printed; at the end the decision records are \
            read back from the store and checked. Exit status 0 when everything went as scripted.
            """
    )

    @Flag(help: "Keep running after the script and print how to connect an MCP client (until Ctrl-C or SIGTERM).")
    var serve = false

    @Option(
        name: .customLong("data-dir"), help: "Keep the store, KEK, socket and policies in this directory (default: a temporary one, removed at exit)."
    )
    var dataDirectory: String?

    @Flag(help: "Show Latch's own log (info level) on standard error.")
    var verbose = false

    func run() async throws {
        let level: Logger.Level = self.verbose ? .info : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let succeeded: Bool
        do {
            succeeded = try await LatchDemo.run(
                options: LatchDemo.Options(dataDirectory: self.dataDirectory, serve: self.serve),
                output: { PolicyCommand.writeOut($0 + "\n") }, logger: Logger(label: "latch"))
        } catch {
            PolicyCommand.writeError("error: latch demo could not run: \(error)")
            throw ExitCode(1)
        }
        if !succeeded { throw ExitCode(1) }
    }
}
