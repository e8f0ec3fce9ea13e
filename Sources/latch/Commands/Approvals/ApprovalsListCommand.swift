import ArgumentParser
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer

/// `latch approvals list [--task ID] [--status STATUS] [--limit N] [--json]`
struct ApprovalsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List approvals, newest first.",
        discussion: """
            One line per approval: ID, status as of now (a pending or approved one past its expiry shows expired), task, tool, \
            when it expires (UTC) and why it was held.
            """
    )

    @OptionGroup var server: ServerOptions

    @Option(help: "Only this task's approvals.")
    var task: String?

    @Option(help: "Only approvals stored with this status: pending, approved, denied, consumed or expired.")
    var status: String?

    @Option(help: "At most this many (default 100).")
    var limit = 100

    @Flag(help: "Print a JSON array of approvals (times in Unix ms) instead of lines.")
    var json = false

    func run() async throws {
        var status: Approval.Status?
        if let text = self.status {
            guard let parsed = Approval.Status(rawValue: text) else {
                throw ValidationError("--status must be one of \(Approval.Status.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = parsed
        }
        guard self.limit > 0 else { throw ValidationError("--limit must be positive") }
        let (task, limit, wanted) = (self.task, self.limit, status)
        let now = ApprovalsCommand.now()
        let approvals = try await self.server.withStore { store in try await store.approvals(taskID: task, status: wanted, limit: limit) }
        if self.json {
            print(JSONValue.array(approvals.map { ApprovalOutput.json($0, now: now) }).serialized)
        } else {
            print(ApprovalOutput.table(approvals, now: now), terminator: "")
        }
    }
}

/// `latch approvals show ID`
struct ApprovalsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one approval as JSON: the held call's task, grant, agent, tool, arguments, prompt, risk, why, and its decision.",
        discussion: """
            The arguments and prompt are kept sealed under the ledger's key: opening them needs the key-encryption key \
            (LATCH_KEK, kek_file or the data directory's kek), as latch audit show --reveal does. Without it they are left out, \
            with a warning. Exit 1 if there is no such approval.
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The approval's ID.")
    var id: String

    func run() async throws {
        let id = try ApprovalsCommand.id(self.id)
        let now = ApprovalsCommand.now()
        let configuration = try self.server.configuration()
        let found = try await self.server.withStore { store -> (Approval, ApprovalJSON.Opened?)? in
            guard let approval = try await store.approval(id: id) else { return nil }
            guard approval.argumentsSealed != nil || approval.promptSealed != nil else { return (approval, nil) }
            do {
                let privacy = ApprovalPrivacy(ledgerKey: try await AuditKeys.ledgerKey(store: store, configuration: configuration))
                return (approval, try ApprovalJSON.Opened(approval, privacy: privacy))
            } catch {
                PolicyCommand.writeError(
                    "warning: the arguments and prompt are not shown: \((error as? LatchError)?.message ?? "the ledger key is unavailable")")
                return (approval, nil)
            }
        }
        guard let (approval, opened) = found else {
            PolicyCommand.writeError("error: no approval \(AuditOutput.printable(id)) (see latch approvals list)")
            throw ExitCode(1)
        }
        print(ToolOutput.reviewable(ApprovalOutput.json(approval, now: now, opened: opened)))
    }
}

/// How `latch approvals` prints approvals.
enum ApprovalOutput {
    /// Every field; `status` as of `now`, `stored_status` as stored (``ApprovalJSON``).
    static func json(_ approval: Approval, now: Int64, opened: ApprovalJSON.Opened? = nil) -> JSONValue {
        ApprovalJSON.json(approval, now: now, opened: opened)
    }

    /// One line per approval, columns aligned; control characters escaped.
    static func table(_ approvals: [Approval], now: Int64) -> String {
        let rows =
            [["ID", "STATUS", "TASK", "TOOL", "EXPIRES", "REASON"]]
            + approvals.map { approval in
                [
                    approval.id, approval.effectiveStatus(now: now).rawValue, approval.taskID, approval.tool,
                    AuditOutput.iso8601(milliseconds: approval.expiresAt),
                    approval.reason.isEmpty ? approval.policies.joined(separator: ",") : approval.reason,
                ].map(AuditOutput.printable)
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<5).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  " + row[5] + "\n"
        }.joined()
    }
}
