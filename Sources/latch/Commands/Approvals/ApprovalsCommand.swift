import ArgumentParser
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchServer

/// `latch approvals …`: held tool calls waiting for a person, in the store the configuration
/// names (see the README's "Approvals").
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, show, approve and deny held tool calls.",
        subcommands: [ApprovalsListCommand.self, ApprovalsShowCommand.self, ApprovalsApproveCommand.self, ApprovalsDenyCommand.self]
    )

    /// Now, in Unix milliseconds.
    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// An approval ID as given on the command line, as a usage error (exit 64) when it cannot be one.
    static func id(_ text: String) throws -> String {
        guard Approval.isName(text) else { throw ValidationError("an approval ID is 1-255 bytes (as `latch approvals list` prints it)") }
        return text
    }
}

/// `latch approvals approve ID --as NAME [--note TEXT]` and `… deny …`: one decision per approval.
struct ApprovalDecisionOptions: ParsableArguments {
    @Argument(help: "The approval's ID (as the agent's error and `latch approvals list` give it).")
    var id: String

    @Option(name: .customLong("as"), help: "Who decides: your name, kept with the decision.")
    var name: String

    @Option(help: "A note kept with the decision.")
    var note: String?

    /// Decides once; a second decision, or one on an expired approval, exits 1 saying why. The
    /// decision is recorded in the ledger (``ApprovalDecisions``), which needs the KEK once the
    /// ledger has keys.
    func decide(approve: Bool, server: ServerOptions) async throws {
        let id = try ApprovalsCommand.id(self.id)
        do { try Approval.validateDecider(self.name, note: self.note) } catch { throw ValidationError(error.message) }
        let now = ApprovalsCommand.now()
        let (name, note) = (self.name, self.note)
        let configuration = try server.configuration()
        let outcome = try await server.withStore { store in
            let ledgerKey = try await store.ledgerKeys() == nil ? nil : try await AuditKeys.ledgerKey(store: store, configuration: configuration)
            return try await ApprovalDecisions.decide(store: store, id: id, approve: approve, by: name, note: note, now: now, ledgerKey: ledgerKey)
        }
        let shown = AuditOutput.printable(id)
        switch outcome {
        case .decided(let approval):
            print(
                approve
                    ? "approved \(shown): the agent's next retry of the same call (before \(AuditOutput.iso8601(milliseconds: approval.expiresAt))) is allowed, once"
                    : "denied \(shown): retries naming it are denied")
        case .refused(let approval):
            let state: String
            switch approval.effectiveStatus(now: now) {
            case .pending: state = "is still pending"  // Not reached: a pending, unexpired approval is decided.
            case .approved: state = "was already approved by \(AuditOutput.printable(approval.decidedBy ?? "?"))"
            case .denied: state = "was already denied by \(AuditOutput.printable(approval.decidedBy ?? "?"))"
            case .consumed: state = "was already approved and used"
            case .expired: state = "expired at \(AuditOutput.iso8601(milliseconds: approval.expiresAt))"
            }
            PolicyCommand.writeError("error: approval \(shown) \(state); an approval takes one decision, nothing was changed")
            throw ExitCode(1)
        case .notFound:
            PolicyCommand.writeError("error: no approval \(shown) (see latch approvals list)")
            throw ExitCode(1)
        }
    }
}

/// `latch approvals approve ID --as NAME [--note TEXT]`
struct ApprovalsApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a held call: the agent's next retry of exactly that call is allowed, once, before the approval expires.",
        discussion: "Exit 1 if the approval was already decided, used or expired, or does not exist."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var decision: ApprovalDecisionOptions

    func run() async throws { try await self.decision.decide(approve: true, server: self.server) }
}

/// `latch approvals deny ID --as NAME [--note TEXT]`
struct ApprovalsDenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a held call: retries naming the approval are denied.",
        discussion: "Exit 1 if the approval was already decided, used or expired, or does not exist."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var decision: ApprovalDecisionOptions

    func run() async throws { try await self.decision.decide(approve: false, server: self.server) }
}
