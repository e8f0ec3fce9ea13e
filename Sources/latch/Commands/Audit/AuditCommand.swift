import ArgumentParser
import LatchGateway
import LatchIdentity

/// `latch audit …`: the gateway's decision records in the store the configuration names.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the gateway's decision records (one per tool call, allowed or denied) and check their ledger.",
        subcommands: [
            AuditListCommand.self, AuditShowCommand.self, AuditQueryCommand.self, AuditTraceCommand.self, AuditExportCommand.self,
            AuditVerifyCommand.self, AuditProveCommand.self,
        ]
    )
}

/// `latch audit list`
struct AuditListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List decision records, newest first.",
        discussion: """
            One line per record: time (ISO 8601, UTC), allowed or denied, the denial reason, agent, tool, \
            task and decision ID ("-" where a record has none). With --json, a JSON array of the records.
            """
    )

    @OptionGroup var server: ServerOptions
    @Option(help: "Only this task's records.") var task: String?
    @Option(help: "At most this many records.") var limit = 50
    @Flag(help: "Print a JSON array of the records (every field) instead of lines.") var json = false

    func run() async throws {
        guard self.limit > 0 else { throw ValidationError("--limit must be positive") }
        let (task, limit) = (self.task, self.limit)
        let records = try await self.server.withStore { store in try await store.decisionRecords(taskID: task, limit: limit) }
        if self.json {
            print(JSONValue.array(records.map(\.json)).serialized)
        } else {
            print(AuditOutput.lines(records), terminator: "")
        }
    }
}
