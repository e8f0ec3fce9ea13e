public import LatchCore
public import LatchGateway
public import LatchIdentity

/// Turning `approvals` rows back into values, and the SQL both stores share.
///
/// A row that does not decode (an unknown status, policies that are not a JSON list of strings:
/// a row edited by hand) is reported as `internalError` naming the approval, not skipped.
public enum ApprovalRows {
    /// Columns selected by every query, in the order the stores decode them.
    public static let columns =
        "id, task_id, grant_id, agent, tool, digest, reason, policies, prompt_hmac, arguments_hmac, status, created_at, expires_at, decided_by, decided_at, note, "
        + "arguments_sealed, prompt_sealed, risk"

    /// The `policies` column: a canonical JSON array of strings.
    public static func policiesText(_ approval: Approval) -> String {
        JSONValue.array(approval.policies.map(JSONValue.string)).serialized
    }

    /// The `risk` column: canonical JSON of the object, or nil.
    public static func riskText(_ approval: Approval) -> String? { approval.risk?.serialized }

    /// The `risk` column of approval `id` as a value.
    public static func risk(_ text: String?, id: String) throws(LatchError) -> JSONValue? {
        guard let text else { return nil }
        guard let risk = JSONValue(parsing: text.utf8), risk.objectValue != nil else {
            throw LatchError(.internalError, "stored approval \(id.prefix(64)) has a risk that is not a JSON object")
        }
        return risk
    }

    /// The `status` column of approval `id` as a value.
    public static func status(_ text: String, id: String) throws(LatchError) -> Approval.Status {
        guard let status = Approval.Status(rawValue: text) else {
            throw LatchError(.internalError, "stored approval \(id.prefix(64)) has an unknown status")
        }
        return status
    }

    /// The `policies` column of approval `id` as a list.
    public static func policies(_ text: String, id: String) throws(LatchError) -> [String] {
        guard case .array(let items)? = JSONValue(parsing: text.utf8) else {
            throw LatchError(.internalError, "stored approval \(id.prefix(64)) has policies that are not a JSON list")
        }
        var policies: [String] = []
        for item in items {
            guard case .string(let policy) = item else {
                throw LatchError(.internalError, "stored approval \(id.prefix(64)) has policies that are not a JSON list of strings")
            }
            policies.append(policy)
        }
        return policies
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
