/// The tables both stores create, written once with the few type names that differ.
///
/// Same tables and columns on SQLite and PostgreSQL: times are `BIGINT` milliseconds since the
/// Unix epoch, blobs `BLOB`/`BYTEA`, attributes canonical JSON text (``AttributesJSON``), and
/// text keys compare by UTF-8 bytes (SQLite's `BINARY`, PostgreSQL's `"C"` collation) so ordering
/// by id is the same everywhere.
///
/// Migrations are append-only: never edit a released one, add the next.
public enum StoreSchema {
    public enum Dialect: Sendable {
        case sqlite, postgres

        var int64: String { self == .sqlite ? "INTEGER" : "BIGINT" }
        var blob: String { self == .sqlite ? "BLOB" : "BYTEA" }
        var key: String { self == .sqlite ? "TEXT" : "TEXT COLLATE \"C\"" }
        var tableOptions: String { self == .sqlite ? " STRICT" : "" }
    }

    public struct Migration: Sendable {
        /// Applied in increasing order; recorded once applied.
        public let version: Int
        public let name: String
        /// Statements, each run on its own, inside one transaction.
        public let statements: @Sendable (Dialect) -> [String]
    }

    /// The name of the `store_revisions` row that counts changes to registration entries.
    public static let entriesRevisionName = "entries"
    /// The name of the `store_revisions` row that counts changes to CA keys (added by migration 2);
    /// the trust bundle's `spiffe_sequence`.
    public static let keysRevisionName = "keys"
    /// The name of the `store_revisions` row that counts revocations of task grants (added by
    /// migration 3); verifiers reload their revocation index when it moves.
    public static let revocationsRevisionName = "revocations"
    /// The name of the `store_revisions` row that counts changes to sealed secrets (added by
    /// migration 4); a server reloads the secrets it holds when it moves.
    public static let secretsRevisionName = "secrets"
    /// The name of the `store_revisions` row holding the ledger's size (added by migration 7):
    /// the next leaf index. Appends move it in their transaction (on PostgreSQL its row lock
    /// serializes appends, so indices have no gaps).
    public static let ledgerRevisionName = "ledger"

    public static let migrations: [Migration] = [
        Migration(version: 1, name: "identity store") { d in
            [
                """
                CREATE TABLE registration_entries (
                    id \(d.key) NOT NULL PRIMARY KEY,
                    spiffe_id TEXT NOT NULL,
                    x509_svid_ttl \(d.int64) NOT NULL,
                    jwt_svid_ttl \(d.int64) NOT NULL,
                    attributes TEXT NOT NULL,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "CREATE INDEX registration_entries_by_creation ON registration_entries (created_at, id)",
                "CREATE INDEX registration_entries_by_spiffe_id ON registration_entries (spiffe_id)",
                """
                CREATE TABLE registration_selectors (
                    entry_id \(d.key) NOT NULL REFERENCES registration_entries (id) ON DELETE CASCADE,
                    type \(d.key) NOT NULL,
                    value \(d.key) NOT NULL,
                    PRIMARY KEY (entry_id, type, value)
                )\(d.tableOptions)
                """,
                "CREATE INDEX registration_selectors_by_selector ON registration_selectors (type, value)",
                """
                CREATE TABLE store_revisions (
                    name \(d.key) NOT NULL PRIMARY KEY,
                    revision \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "INSERT INTO store_revisions (name, revision) VALUES ('\(Self.entriesRevisionName)', 0)",
                """
                CREATE TABLE ca_keys (
                    key_id \(d.key) NOT NULL PRIMARY KEY,
                    purpose TEXT NOT NULL,
                    state TEXT NOT NULL,
                    sealed_private_key \(d.blob) NOT NULL,
                    certificate_der \(d.blob),
                    not_before \(d.int64) NOT NULL,
                    not_after \(d.int64) NOT NULL,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "CREATE INDEX ca_keys_by_purpose ON ca_keys (purpose, created_at, key_id)",
                """
                CREATE TABLE join_tokens (
                    token_hash \(d.blob) NOT NULL PRIMARY KEY,
                    selector_value TEXT NOT NULL,
                    expires_at \(d.int64) NOT NULL,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "CREATE INDEX join_tokens_by_expiry ON join_tokens (expires_at)",
            ]
        },
        // Before this migration the bundle sequence lived in memory: each node started it at the
        // newest key's creation second and added one per change it saw, a few per key lifetime.
        // A store upgraded with keys starts the counter at the latest key's `notAfter` second
        // (later than its creation by a whole key lifetime), so the sequence published after
        // the upgrade is not smaller than one a version-1 node published. A new store starts at 0.
        Migration(version: 2, name: "keys revision") { _ in
            [
                """
                INSERT INTO store_revisions (name, revision)
                SELECT '\(Self.keysRevisionName)', COALESCE(MAX(not_after) / 1000, 0) FROM ca_keys
                """
            ]
        },
        // Task grants. A grant's claims are stored as the canonical JSON its token signed (`iss`
        // empty for a grant saved without a token; reading ignores it) and read back with the
        // same codec; the other grant columns are what the queries filter and sort on.
        // `issued_at`/`expires_at` keep the milliseconds the claims round to seconds. A task row
        // is written with its root grant (depth 0).
        Migration(version: 3, name: "grants") { d in
            [
                """
                CREATE TABLE grants (
                    id \(d.key) NOT NULL PRIMARY KEY,
                    task_id \(d.key) NOT NULL,
                    parent_id \(d.key),
                    subject TEXT NOT NULL,
                    holder TEXT NOT NULL,
                    depth \(d.int64) NOT NULL,
                    intent TEXT NOT NULL,
                    claims TEXT NOT NULL,
                    issued_at \(d.int64) NOT NULL,
                    expires_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                // Few indexes: every one is written on each issuance. A task's grants (sorted
                // after the lookup: a task has few); one root per task; expiry for the sweeper
                // and for listing live grants. Listing all grants newest first scans.
                "CREATE INDEX grants_by_task ON grants (task_id)",
                "CREATE UNIQUE INDEX grants_task_root ON grants (task_id) WHERE depth = 0",
                "CREATE INDEX grants_by_expiry ON grants (expires_at)",
                """
                CREATE TABLE grant_revocations (
                    grant_id \(d.key) NOT NULL PRIMARY KEY,
                    reason TEXT NOT NULL,
                    revoked_at \(d.int64) NOT NULL,
                    expires_at \(d.int64) NOT NULL,
                    revision \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "CREATE INDEX grant_revocations_by_expiry ON grant_revocations (expires_at)",
                // What a node polling the revision counter has not loaded yet.
                "CREATE INDEX grant_revocations_by_revision ON grant_revocations (revision)",
                // A task is its root grant; it ended when that grant was revoked or completed.
                // A view, not a table: issuing a task grant writes one row, and a task cannot
                // disagree with its root grant.
                """
                CREATE VIEW grant_tasks AS
                SELECT g.task_id AS task_id, g.subject AS subject, g.intent AS intent, g.id AS root_grant_id,
                       g.issued_at AS created_at, g.expires_at AS expires_at, r.revoked_at AS ended_at, r.reason AS end_reason
                FROM grants g LEFT JOIN grant_revocations r ON r.grant_id = g.id
                WHERE g.depth = 0
                """,
                "INSERT INTO store_revisions (name, revision) VALUES ('\(Self.revocationsRevisionName)', 0)",
            ]
        },
        // Sealed secrets for the gateway to inject upstream: the value is AES-256-GCM under the
        // key-encryption key, bound to the name (`SecretSealer`); the store never sees it clear.
        // Names are `[A-Za-z0-9._-]{1,128}`, so they order the same on both stores.
        Migration(version: 4, name: "secrets") { d in
            [
                """
                CREATE TABLE secrets (
                    name \(d.key) NOT NULL PRIMARY KEY,
                    sealed_value \(d.blob) NOT NULL,
                    created_at \(d.int64) NOT NULL,
                    updated_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "INSERT INTO store_revisions (name, revision) VALUES ('\(Self.secretsRevisionName)', 0)",
            ]
        },
        // The gateway's decision records, one per tool call, allowed or denied. `record` is the
        // record's canonical JSON (`DecisionRecord.json`), read back whole; the other columns are
        // copies of its fields for filtering, sorting and ad-hoc queries (`allowed` is 0 or 1).
        // Listing is newest first, all records or one task's: an index for each.
        Migration(version: 5, name: "decision records") { d in
            [
                """
                CREATE TABLE decision_records (
                    id \(d.key) NOT NULL PRIMARY KEY,
                    time \(d.int64) NOT NULL,
                    task_id \(d.key) NOT NULL,
                    grant_id \(d.key) NOT NULL,
                    agent TEXT NOT NULL,
                    tool TEXT,
                    allowed \(d.int64) NOT NULL CHECK (allowed IN (0, 1)),
                    reason TEXT,
                    record TEXT NOT NULL
                )\(d.tableOptions)
                """,
                "CREATE INDEX decision_records_by_time ON decision_records (time, id)",
                "CREATE INDEX decision_records_by_task ON decision_records (task_id, time, id)",
            ]
        },
        // Upstream tool definitions pinned by SHA-256 (`ToolPin`): per upstream and tool at most
        // one accepted and one pending definition. `definition` is the upstream's definition in
        // canonical JSON (what `digest` hashes), kept so an operator can diff it; `accepted_by`
        // is NULL when Latch accepted it on first use. The primary key serves every lookup (all
        // pins, one upstream's, one tool's); `status` orders `accepted` before `pending`.
        Migration(version: 6, name: "tool pins") { d in
            [
                """
                CREATE TABLE tool_pins (
                    upstream \(d.key) NOT NULL,
                    tool \(d.key) NOT NULL,
                    status \(d.key) NOT NULL CHECK (status IN ('accepted', 'pending')),
                    digest TEXT NOT NULL,
                    definition TEXT NOT NULL,
                    first_seen \(d.int64) NOT NULL,
                    accepted_at \(d.int64),
                    accepted_by TEXT,
                    PRIMARY KEY (upstream, tool, status),
                    CHECK ((status = 'accepted' AND accepted_at IS NOT NULL) OR (status = 'pending' AND accepted_at IS NULL AND accepted_by IS NULL))
                )\(d.tableOptions)
                """
            ]
        },
        // The audit ledger (LatchAudit). Its leaves are decision records: `leaf_index` (0, 1, …
        // in append order, no gaps), `leaf_hash` (RFC 9162: SHA-256 of 0x00 ‖ the `record`
        // column's UTF-8 bytes, which are the record's RFC 8785 JSON) and `leaf_mac`
        // (HMAC-SHA256 under the ledger key of the index and leaf hash). Records stored before
        // this migration have none and are not in the ledger. The head (the next index) is the
        // `ledger` revision. Checkpoints are C2SP signed notes, one per tree size. The ledger's
        // keys (MAC key and checkpoint signing key) are sealed under the KEK, one row.
        Migration(version: 7, name: "ledger") { d in
            [
                "ALTER TABLE decision_records ADD COLUMN leaf_index \(d.int64)",
                "ALTER TABLE decision_records ADD COLUMN leaf_hash \(d.blob)",
                "ALTER TABLE decision_records ADD COLUMN leaf_mac \(d.blob)",
                "CREATE UNIQUE INDEX decision_records_by_leaf ON decision_records (leaf_index)",
                """
                CREATE TABLE ledger_checkpoints (
                    size \(d.int64) NOT NULL PRIMARY KEY,
                    root_hash \(d.blob) NOT NULL,
                    note TEXT NOT NULL,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                """
                CREATE TABLE ledger_keys (
                    name \(d.key) NOT NULL PRIMARY KEY CHECK (name = 'ledger'),
                    key_name TEXT NOT NULL,
                    sealed_mac_key \(d.blob) NOT NULL,
                    sealed_signing_key \(d.blob) NOT NULL,
                    public_key \(d.blob) NOT NULL,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
                "INSERT INTO store_revisions (name, revision) VALUES ('\(Self.ledgerRevisionName)', 0)",
            ]
        },
        // What `latch audit query` filters on, without scanning: the trace ID as a column (copied
        // from the record JSON for the rows stored before, as every column is a copy of a field)
        // and an index per filter, each ending in (time, id) so one filter reads its records
        // already in time order. A task's records have had theirs since migration 5; a time range
        // alone uses decision_records_by_time. Four more indexes are written on every append:
        // the ledger benchmark (Benchmarks/Ledger) measures appends with them.
        Migration(version: 8, name: "decision record queries") { d in
            [
                "ALTER TABLE decision_records ADD COLUMN trace_id TEXT",
                d == .sqlite
                    ? "UPDATE decision_records SET trace_id = json_extract(record, '$.trace_id')"
                    // Not `record::json ->> 'trace_id'`: PostgreSQL refuses a whole document with a
                    // `\u0000` anywhere (a prompt may hold one). The value's JSON string is cut out
                    // (in canonical JSON `"trace_id":"` can only be the key: a quote inside a string is
                    // escaped) and only it is decoded.
                    : #"UPDATE decision_records SET trace_id = ('"' || substring(record from '"trace_id":"((?:[^"\\]|\\.)*)"') || '"')::json #>> '{}'"#,
                "CREATE INDEX decision_records_by_agent ON decision_records (agent, time, id)",
                "CREATE INDEX decision_records_by_grant ON decision_records (grant_id, time, id)",
                "CREATE INDEX decision_records_by_tool ON decision_records (tool, time, id)",
                "CREATE INDEX decision_records_by_trace ON decision_records (trace_id, time, id)",
            ]
        },
        // Held tool calls waiting for a person (`Approval`), bound to `digest` (SHA-256 of the
        // canonical tool, arguments and grant ID); `prompt_hmac` and `arguments_hmac` as the call's
        // decision record has them. `policies` is a canonical JSON array of
        // strings. Every state change is one conditional UPDATE on `status`. The task index
        // serves the per-task cap on pending approvals and listing one task's; the creation
        // index listing all, newest first.
        Migration(version: 9, name: "approvals") { d in
            [
                """
                CREATE TABLE approvals (
                    id \(d.key) NOT NULL PRIMARY KEY,
                    task_id \(d.key) NOT NULL,
                    grant_id \(d.key) NOT NULL,
                    agent TEXT NOT NULL,
                    tool TEXT NOT NULL,
                    digest TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    policies TEXT NOT NULL,
                    prompt_hmac TEXT,
                    arguments_hmac TEXT,
                    status \(d.key) NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'consumed', 'expired')),
                    created_at \(d.int64) NOT NULL,
                    expires_at \(d.int64) NOT NULL,
                    decided_by TEXT,
                    decided_at \(d.int64),
                    note TEXT,
                    CHECK (status NOT IN ('approved', 'denied', 'consumed') OR (decided_by IS NOT NULL AND decided_at IS NOT NULL))
                )\(d.tableOptions)
                """,
                "CREATE INDEX approvals_by_task ON approvals (task_id, status, expires_at)",
                "CREATE INDEX approvals_by_creation ON approvals (created_at, id)",
            ]
        },
        // One index for a task's grants and its single root instead of two (`grants_by_task` and
        // the partial `grants_task_root`, which a root grant, the usual kind, wrote with the same
        // key): unique on (task_id, '') for the root and on (task_id, id) for the others (grant
        // IDs are never empty and unique already). Lookups by task use its first column.
        Migration(version: 10, name: "one task index for grants") { _ in
            [
                "CREATE UNIQUE INDEX grants_by_task_root ON grants (task_id, (CASE WHEN depth = 0 THEN '' ELSE id END))",
                "DROP INDEX grants_by_task",
                "DROP INDEX grants_task_root",
            ]
        },
        // What the person deciding a held call reads (`ApprovalPrivacy`, `ApprovalRisk`): the
        // call's arguments and prompt sealed under the ledger's approval subkey, and the risk as
        // canonical JSON. And the operators who decide through the admin API: a name and the
        // SHA-256 of their random bearer token (the token itself is never stored).
        Migration(version: 11, name: "approval contents and operators") { d in
            [
                "ALTER TABLE approvals ADD COLUMN arguments_sealed TEXT",
                "ALTER TABLE approvals ADD COLUMN prompt_sealed TEXT",
                "ALTER TABLE approvals ADD COLUMN risk TEXT",
                """
                CREATE TABLE operators (
                    name \(d.key) NOT NULL PRIMARY KEY,
                    token_sha256 \(d.blob) NOT NULL UNIQUE,
                    created_at \(d.int64) NOT NULL
                )\(d.tableOptions)
                """,
            ]
        },
        // Agents quarantined by the guard's kill switch or an operator: one row per agent (a
        // release keeps the row, with who released it; quarantining again replaces it). Every
        // node reads the rows in force (`released_at IS NULL`) on each poll: few, by design.
        // `rules` is a canonical JSON array of strings.
        Migration(version: 12, name: "quarantines") { d in
            [
                """
                CREATE TABLE quarantines (
                    agent \(d.key) NOT NULL PRIMARY KEY,
                    reason TEXT NOT NULL,
                    quarantined_by TEXT NOT NULL,
                    quarantined_at \(d.int64) NOT NULL,
                    task_id TEXT,
                    grant_id TEXT,
                    decision_id TEXT,
                    rules TEXT NOT NULL,
                    released_at \(d.int64),
                    released_by TEXT,
                    note TEXT,
                    CHECK ((released_at IS NULL) = (released_by IS NULL))
                )\(d.tableOptions)
                """
            ]
        },
        // Grant queries through the task index: `decision_records_by_grant` cost every append a
        // page of its own per grant in the batch (one per agent session: Benchmarks/Ledger), and a
        // grant's records are all in one task (a delegated grant stays in its parent's), whose
        // index already holds them in time order. `decision_record_grants` says which tasks a
        // grant's records are in (one in practice; the key allows more): an append adds a row
        // only for a pair it has not seen, so on most appends it is read, not written. It is the
        // records' own account (grants are pruned when they expire; records are not).
        Migration(version: 13, name: "grant queries through the task index") { d in
            [
                """
                CREATE TABLE decision_record_grants (
                    grant_id \(d.key) NOT NULL,
                    task_id \(d.key) NOT NULL,
                    PRIMARY KEY (grant_id, task_id)
                )\(d.tableOptions)
                """,
                "INSERT INTO decision_record_grants (grant_id, task_id) SELECT DISTINCT grant_id, task_id FROM decision_records",
                "DROP INDEX decision_records_by_grant",
            ]
        },
        // The grant columns the claims repeat (`subject`, `holder`, `intent`: the claims' `sub`,
        // first actor and `intent`) go: about 90 of a row's ~700 bytes written on every issuance,
        // and read by nothing but the `grant_tasks` view, which now hands readers the root grant's
        // claims (decoded as every grant query decodes them). The view goes first: neither store
        // drops a column a view reads. Existing rows keep their claims, so nothing is copied.
        Migration(version: 14, name: "grant columns from claims") { _ in
            [
                "DROP VIEW grant_tasks",
                "ALTER TABLE grants DROP COLUMN subject",
                "ALTER TABLE grants DROP COLUMN holder",
                "ALTER TABLE grants DROP COLUMN intent",
                """
                CREATE VIEW grant_tasks AS
                SELECT g.task_id AS task_id, g.claims AS claims, g.id AS root_grant_id, g.issued_at AS created_at,
                       g.expires_at AS expires_at, r.revoked_at AS ended_at, r.reason AS end_reason
                FROM grants g LEFT JOIN grant_revocations r ON r.grant_id = g.id
                WHERE g.depth = 0
                """,
            ]
        },
        // An egress request's path is an argument (a REST path names customers and accounts):
        // since this version it is kept sealed, not in clear (`DecisionFacts`, `ApprovalRisk`).
        // Approvals stored before keep theirs in `risk.http.path`: removed here. Ledger records
        // keep theirs (their bytes are hashed). The migration also stops an older Latch from
        // opening the store and failing on egress records without a path (its parser wants one).
        // PostgreSQL's `risk` is canonical JSON text: the member is cut out of the text (in
        // canonical JSON `"http":{"method":"…","path":"…"}` can only be the object: quotes inside
        // strings are escaped), which also keeps texts `jsonb` could not hold (`\u0000`).
        Migration(version: 15, name: "egress paths sealed") { d in
            [
                d == .sqlite
                    ? "UPDATE approvals SET risk = json_remove(risk, '$.http.path') WHERE json_type(risk, '$.http.path') IS NOT NULL"
                    : #"UPDATE approvals SET risk = regexp_replace(risk, '("http":\{"method":"(?:[^"\\]|\\.)*"),"path":"(?:[^"\\]|\\.)*"\}', '\1}') WHERE risk LIKE '%"http":{"method":%,"path":%'"#
            ]
        },
    ]
}
