public import LatchCore
public import LatchGrants
import LatchIdentity

/// Turning `quarantines` rows back into values, and the SQL and checks both stores share.
///
/// A row that does not decode (an agent that is not a SPIFFE ID, rules that are not a JSON list
/// of strings: a row edited by hand) is reported as `internalError`, not skipped: a quarantine
/// silently dropped would let the agent back in.
public enum QuarantineRows {
    /// Columns selected by every query, in the order the stores decode them.
    public static let columns =
        "agent, reason, quarantined_by, quarantined_at, task_id, grant_id, decision_id, rules, released_at, released_by, note"

    /// The `rules` column: a canonical JSON array of strings.
    public static func rulesText(_ quarantine: AgentQuarantine) -> String {
        JSONValue.array(quarantine.rules.map(JSONValue.string)).serialized
    }

    /// A row's columns, in ``columns`` order, as a quarantine.
    public static func quarantine(
        agent: String, reason: String, by: String, since: Int64, taskID: String?, grantID: String?, decisionID: String?, rules: String,
        releasedAt: Int64?, releasedBy: String?, note: String?
    ) throws(LatchError) -> AgentQuarantine {
        guard let id = try? SPIFFEID(parsing: agent) else { throw LatchError(.internalError, "a stored quarantine names an agent that is not a SPIFFE ID") }
        guard case .array(let items)? = JSONValue(parsing: rules.utf8) else {
            throw LatchError(.internalError, "the stored quarantine of \(id) has rules that are not a JSON list")
        }
        var names: [String] = []
        for item in items {
            guard case .string(let name) = item else { throw LatchError(.internalError, "the stored quarantine of \(id) has rules that are not strings") }
            names.append(name)
        }
        return AgentQuarantine(
            agent: id, reason: reason, by: by, since: since, taskID: taskID, grantID: grantID, decisionID: decisionID, rules: names,
            releasedAt: releasedAt, releasedBy: releasedBy, note: note)
    }
}

extension StoreValidation {
    /// A quarantine to store: in force, a reason and an author of 1–255 bytes, and no U+0000 in
    /// any text (PostgreSQL's `text` cannot hold one).
    public static func validate(_ quarantine: AgentQuarantine) throws(LatchError) {
        guard quarantine.inForce else { throw LatchError(.invalidInput, "a new quarantine must be in force") }
        try Self.validateName(quarantine.reason, "a quarantine's reason")
        try Self.validateName(quarantine.by, "who quarantines")
        let texts = [quarantine.taskID, quarantine.grantID, quarantine.decisionID, quarantine.note].compactMap { $0 } + quarantine.rules
        guard texts.allSatisfy({ !$0.utf8.contains(0) && $0.utf8.count <= 4096 }) else {
            throw LatchError(.invalidInput, "a quarantine's fields must be at most 4096 bytes, without U+0000")
        }
    }

    /// Who releases a quarantine, and their note.
    public static func validateRelease(by: String, note: String?) throws(LatchError) {
        try Self.validateName(by, "who releases a quarantine")
        if let note { guard !note.utf8.contains(0), note.utf8.count <= 4096 else { throw LatchError(.invalidInput, "a note must be at most 4096 bytes, without U+0000") } }
    }

    private static func validateName(_ text: String, _ what: String) throws(LatchError) {
        guard !text.isEmpty, text.utf8.count <= 255, !text.utf8.contains(0) else { throw LatchError(.invalidInput, "\(what) must be 1-255 bytes without U+0000") }
    }
}
