public import LatchAudit
public import LatchGateway
import LatchCore
import LatchIdentity

/// An operator's decision on an approval, as `latch approvals approve|deny` and the admin API
/// make it: one conditional write (``ApprovalRepository/decideApproval(id:approve:by:note:now:)``),
/// then, when it decided, a record in the ledger so that `latch audit trace` shows who approved what.
///
/// The record (method ``recordMethod``, `latch/approval`) names the approval (`approval_id`), its
/// task, grant, agent and tool, the held call's keyed hashes, the policies that held it, and who
/// decided: `subject` is `operator:<name>`, `allowed` is whether it was approved (a denial has
/// reason `approval_denied`). The operator's note is not recorded (free text stays in the store).
public enum ApprovalDecisions {
    public static let recordMethod = "latch/approval"

    /// Decides, then records the decision in the ledger under `ledgerKey` (nil: the ledger has no
    /// key yet, so there is no ledger to append to). A store error after the decision is thrown:
    /// the decision stands, unrecorded, and the caller says so.
    public static func decide(
        store: some ApprovalRepository & DecisionRecordRepository, id: String, approve: Bool, by name: String, note: String?, now: Int64,
        ledgerKey: LedgerKey?
    ) async throws -> ApprovalDecisionOutcome {
        let outcome = try await store.decideApproval(id: id, approve: approve, by: name, note: note, now: now)
        if case .decided(let approval) = outcome, let ledgerKey {
            try await store.saveDecisionRecords([Self.record(approval, approve: approve, by: name, now: now)], ledgerKey: ledgerKey)
        }
        return outcome
    }

    public static func record(_ approval: Approval, approve: Bool, by name: String, now: Int64) -> DecisionRecord {
        DecisionRecord(
            id: TimeOrderedID.make(now: now), time: now, taskID: approval.taskID, grantID: approval.grantID, agent: approval.agent, subject: "operator:" + name, actors: [],
            method: Self.recordMethod, tool: approval.tool, argumentsHMAC: approval.argumentsHMAC, promptHMAC: approval.promptHMAC, allowed: approve,
            reason: approve ? nil : DenialReason.approvalDenied, message: "approval \(approval.id) \(approve ? "approved" : "denied") by \(name)",
            policies: approval.policies, approvalID: approval.id)
    }
}
