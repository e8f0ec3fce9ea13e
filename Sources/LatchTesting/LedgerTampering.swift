public import LatchAudit

/// Ways of tampering with a stored ledger directly in the database (as someone with write access
/// to the SQLite file or the PostgreSQL rows, but not the ledger key), and what ``LedgerVerifier``
/// with `DecisionRecordIndexCheck` beside it (as `latch audit verify` runs them) must say: the
/// exact first bad index and the kind of problem.
///
/// Every case expects a ledger of ``leaves`` records (indices 0…9) with a checkpoint of all of them.
public struct LedgerTampering: Sendable, CustomStringConvertible {
    public enum Dialect: Sendable { case sqlite, postgres }

    public static let leaves = 10

    public let name: String
    public let firstBadIndex: Int64
    public let kind: LedgerProblem.Kind
    /// SQL statements, run in order. On SQLite, `leaf_hash_of(record)` is a function the runner
    /// registers: SHA-256 of `0x00 ‖ record`.
    public let statements: @Sendable (Dialect) -> [String]

    public var description: String { self.name }

    public static let all: [LedgerTampering] = [
        LedgerTampering(name: "a record modified", firstBadIndex: 3, kind: .modified) { _ in
            ["UPDATE decision_records SET record = replace(record, '\"allowed\":true', '\"allowed\":false') WHERE leaf_index = 3"]
        },
        LedgerTampering(name: "a record modified and its leaf hash recomputed", firstBadIndex: 3, kind: .badMAC) { dialect in
            let hash = dialect == .sqlite ? "leaf_hash_of(record)" : "sha256('\\x00'::bytea || convert_to(record, 'UTF8'))"
            return [
                "UPDATE decision_records SET record = replace(record, '\"allowed\":true', '\"allowed\":false') WHERE leaf_index = 3",
                "UPDATE decision_records SET leaf_hash = \(hash) WHERE leaf_index = 3",
            ]
        },
        LedgerTampering(name: "a record deleted", firstBadIndex: 4, kind: .missing) { _ in
            ["DELETE FROM decision_records WHERE leaf_index = 4"]
        },
        LedgerTampering(name: "the last record deleted and the head moved back", firstBadIndex: 9, kind: .missing) { _ in
            ["DELETE FROM decision_records WHERE leaf_index = 9", "UPDATE store_revisions SET revision = 9 WHERE name = 'ledger'"]
        },
        LedgerTampering(name: "a record inserted (a copy of another, later ones renumbered)", firstBadIndex: 5, kind: .badMAC) { _ in
            [
                "UPDATE decision_records SET leaf_index = -leaf_index - 100 WHERE leaf_index >= 5",
                "UPDATE decision_records SET leaf_index = -leaf_index - 99 WHERE leaf_index <= -105",
                """
                INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record, leaf_index, leaf_hash, leaf_mac)
                SELECT 'forged', time, task_id, grant_id, agent, tool, allowed, reason, record, 5, leaf_hash, leaf_mac
                FROM decision_records WHERE leaf_index = 2
                """,
                "UPDATE store_revisions SET revision = revision + 1 WHERE name = 'ledger'",
            ]
        },
        LedgerTampering(name: "two records swapped", firstBadIndex: 6, kind: .badMAC) { _ in
            [
                "UPDATE decision_records SET leaf_index = -1 WHERE leaf_index = 6",
                "UPDATE decision_records SET leaf_index = 6 WHERE leaf_index = 7",
                "UPDATE decision_records SET leaf_index = 7 WHERE leaf_index = -1",
            ]
        },
        // Beside the ledger (DecisionRecordIndexCheck): the hashes cover the record, not what
        // queries read, so these leave every leaf intact and hide records from queries.
        LedgerTampering(name: "a record's task column moved to another task (its record left alone)", firstBadIndex: 5, kind: .columns) { _ in
            ["UPDATE decision_records SET task_id = 'task-elsewhere' WHERE leaf_index = 5"]
        },
        LedgerTampering(name: "a grant's row deleted from decision_record_grants", firstBadIndex: 0, kind: .grantIndex) { _ in
            ["DELETE FROM decision_record_grants"]
        },
    ]
}
