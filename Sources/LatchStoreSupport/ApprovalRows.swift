public import LatchCore
public import LatchGateway
import LatchIdentity

/// Turning `approvals` rows back into values, and the SQL both stores share.
///
/// A row that does not decode (an unknown status, policies that are not a JSON list of strings:
/// a row edited by hand) is reported as `internalError` naming the approval, not skipped.
public enum ApprovalRows {
    /// Columns selected by every query, in ``approval(_:)`` order.
    public static let columns =
        "id, task_id, grant_id, agent, tool, digest, reason, policies, prompt_hmac, arguments_hmac, status, created_at, expires_at, decided_by, decided_at, note"

    /// The `policies` column: a canonical JSON array of strings.
    public static func policiesText(_ approval: Approval) -> String {
        JSONValue.array(approval.policies.map(JSONValue.string)).serialized
    }

    /// A row's columns, in ``columns`` order.
    public struct Row: Sendable {
        public var id: String
        public var taskID: String
        public var grantID: String
        public var agent: String
        public var tool: String
        public var digest: String
        public var reason: String
        public var policies: String
        public var promptHMAC: String?
        public var argumentsHMAC: String?
        public var status: String
        public var createdAt: Int64
        public var expiresAt: Int64
        public var decidedBy: String?
        public var decidedAt: Int64?
        public var note: String?

        public init(
            id: String, taskID: String, grantID: String, agent: String, tool: String, digest: String, reason: String, policies: String,
            promptHMAC: String?, argumentsHMAC: String?, status: String, createdAt: Int64, expiresAt: Int64, decidedBy: String?,
            decidedAt: Int64?, note: String?
        ) {
            self.id = id
            self.taskID = taskID
            self.grantID = grantID
            self.agent = agent
            self.tool = tool
            self.digest = digest
            self.reason = reason
            self.policies = policies
            self.promptHMAC = promptHMAC
            self.argumentsHMAC = argumentsHMAC
            self.status = status
            self.createdAt = createdAt
            self.expiresAt = expiresAt
            self.decidedBy = decidedBy
            self.decidedAt = decidedAt
            self.note = note
        }
    }

    public static func approval(_ row: Row) throws(LatchError) -> Approval {
        guard let status = Approval.Status(rawValue: row.status) else {
            throw LatchError(.internalError, "stored approval \(row.id.prefix(64)) has an unknown status")
        }
        guard case .array(let items)? = JSONValue(parsing: row.policies.utf8) else {
            throw LatchError(.internalError, "stored approval \(row.id.prefix(64)) has policies that are not a JSON list")
        }
        var policies: [String] = []
        for item in items {
            guard case .string(let policy) = item else {
                throw LatchError(.internalError, "stored approval \(row.id.prefix(64)) has policies that are not a JSON list of strings")
            }
            policies.append(policy)
        }
        return Approval(
            id: row.id, taskID: row.taskID, grantID: row.grantID, agent: row.agent, tool: row.tool, digest: row.digest, reason: row.reason,
            policies: policies, promptHMAC: row.promptHMAC, argumentsHMAC: row.argumentsHMAC, status: status, createdAt: row.createdAt,
            expiresAt: row.expiresAt, decidedBy: row.decidedBy, decidedAt: row.decidedAt, note: row.note)
    }
}

extension StoreValidation {
    /// An approval to create: ``Approval/validate()``, pending, and no U+0000 in its reason (PostgreSQL's `text` cannot hold one).
    public static func validateNew(_ approval: Approval, maxPending: Int) throws(LatchError) {
        try approval.validate()
        guard approval.status == .pending else { throw LatchError(.invalidInput, "a new approval must be pending") }
        guard !approval.reason.utf8.contains(0) else { throw LatchError(.invalidInput, "an approval's reason must not hold U+0000") }
        guard maxPending >= 1 else { throw LatchError(.invalidInput, "maxPending must be at least 1") }
    }

    /// The ID, decider and note of a decision.
    public static func validateDecision(id: String, by: String, note: String?) throws(LatchError) {
        guard Approval.isName(id) else { throw LatchError(.invalidInput, "an approval ID must be 1-255 bytes without U+0000") }
        try Approval.validateDecider(by, note: note)
    }
}
