import Foundation
public import LatchAudit
import LatchCore
public import LatchGateway
public import LatchStoreSupport
import PostgresNIO
import Synchronization

extension PostgresIdentityStore: DecisionRecordRepository {
    /// One statement whatever the batch size (``appendStatement(_:from:ledgerKey:)``), sent
    /// outside an explicit transaction (a single statement is atomic): it moves the ledger head
    /// from the index this handle expects (compare-and-set on the `ledger` revision row, whose
    /// lock serializes appends from every node, so indices have no gaps) and stores the records
    /// with their indices, leaf hashes and MACs: one round-trip per batch while this handle is
    /// the only writer. When another writer moved the head first, nothing is stored and the batch
    /// goes the locked way: a transaction reads the head `FOR UPDATE` (holding its row lock) and
    /// sends the same statement from there (never retried). An ID already stored (unique
    /// violation) fails the batch, the head included.
    public func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        let batch = LedgerBatch(records)
        do {
            if let expected = self.expectedLedgerHead.withLock({ $0 }) {
                let result = try await self.client.query(batch.appendStatement(from: expected, ledgerKey: ledgerKey), logger: self.logger)
                var inserted = 0
                for try await _ in result.decode(Int64.self) { inserted += 1 }
                if inserted == batch.rows.count {
                    // Only forward: a concurrent batch of this handle may have moved it further.
                    self.expectedLedgerHead.withLock { $0 = max($0 ?? 0, expected + batch.count) }
                    return
                }
            }
            // The head moved (or is unknown): the locked way.
            let end = try await self.transaction { connection in
                let heads = try await connection.query(
                    "SELECT revision FROM store_revisions WHERE name = \(StoreSchema.ledgerRevisionName) FOR UPDATE", logger: self.logger)
                var head: Int64?
                for try await revision in heads.decode(Int64.self) { head = revision }
                guard let head else { throw LatchError(.internalError, "store_revisions has no 'ledger' row") }
                let result = try await connection.query(batch.appendStatement(from: head, ledgerKey: ledgerKey), logger: self.logger)
                var inserted = 0
                for try await _ in result.decode(Int64.self) { inserted += 1 }
                guard inserted == batch.rows.count else { throw LatchError(.internalError, "the ledger head moved while locked") }
                return head + batch.count
            }
            self.expectedLedgerHead.withLock { $0 = end }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            // "Key (id)=(…) already exists." names the record (an identifier, not a secret).
            throw LatchError(.conflict, "a decision record already exists: \(error.serverInfo?[.detail] ?? "unique violation")")
        }
    }

    public func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
        let limit = Int64(max(0, limit))
        let query: PostgresQuery
        if let taskID {
            query = """
                SELECT \(unescaped: DecisionRecordRows.columns), leaf_index FROM decision_records WHERE task_id = \(taskID)
                ORDER BY time DESC, id DESC LIMIT \(limit)
                """
        } else {
            query = "SELECT \(unescaped: DecisionRecordRows.columns), leaf_index FROM decision_records ORDER BY time DESC, id DESC LIMIT \(limit)"
        }
        return try await self.indexedRows(query).map { try DecisionRecordRows.record($0.row) }
    }

    /// Runs `query`, which selects ``DecisionRecordRows/columns`` and then `leaf_index`: the rows
    /// as stored, each with its ledger index (nil before the ledger).
    func indexedRows(_ query: PostgresQuery) async throws -> [(row: DecisionRecordRow, index: Int64?)] {
        var stored: [(row: DecisionRecordRow, index: Int64?)] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (id, time, taskID, grantID, agent, tool, allowed, reason, traceID, record, index) in rows.decode(
            (String, Int64, String, String, String, String?, Int64, String?, String?, String, Int64?).self)
        {
            let row = DecisionRecordRow(
                id: id, time: time, taskID: taskID, grantID: grantID, agent: agent, tool: tool, allowed: allowed, reason: reason, traceID: traceID,
                record: record)
            stored.append((row, index))
        }
        return stored
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A batch of decision records ready to be appended to the ledger: their columns as arrays.
private struct LedgerBatch {
    let rows: [DecisionRecordRow]
    let leafHashes: [[UInt8]]
    // Arrays cannot carry NULL here: a flag per nullable column says whether its value is set
    // (an empty tool name is a value, not NULL).
    let tools: [String]
    let hasTool: [Bool]
    let reasons: [String]
    let hasReason: [Bool]
    let traceIDs: [String]
    let hasTraceID: [Bool]
    /// Hashes and MACs travel as hex text (postgres-nio encodes no bytea arrays) and are decoded by the server.
    let hashes: [String]

    init(_ records: [EncodedDecisionRecord]) {
        let rows = records.map(DecisionRecordRow.init)
        self.rows = rows
        self.leafHashes = records.map(\.leafHash)
        self.tools = rows.map { $0.tool ?? "" }
        self.hasTool = rows.map { $0.tool != nil }
        self.reasons = rows.map { $0.reason ?? "" }
        self.hasReason = rows.map { $0.reason != nil }
        self.traceIDs = rows.map { $0.traceID ?? "" }
        self.hasTraceID = rows.map { $0.traceID != nil }
        self.hashes = self.leafHashes.map(PostgresIdentityStore.hex)
    }

    var count: Int64 { Int64(self.rows.count) }

    /// Moves the head from `head` to `head + count` and inserts the batch at indices `head…`, or
    /// (the head elsewhere) does nothing; returns one row per record inserted.
    func appendStatement(from head: Int64, ledgerKey: LedgerKey) -> PostgresQuery {
        let indices = (0..<self.count).map { head + $0 }
        let macs = indices.indices.map { PostgresIdentityStore.hex(ledgerKey.mac(index: indices[$0], leafHash: self.leafHashes[$0])) }
        let rows = self.rows
        return """
            WITH head AS (
                UPDATE store_revisions SET revision = revision + \(self.count)
                WHERE name = \(StoreSchema.ledgerRevisionName) AND revision = \(head) RETURNING revision
            ),
            grants AS (
                INSERT INTO decision_record_grants (grant_id, task_id)
                SELECT DISTINCT grant_id, task_id FROM unnest(\(rows.map(\.grantID))::text[], \(rows.map(\.taskID))::text[]) AS g(grant_id, task_id)
                WHERE EXISTS (SELECT 1 FROM head)
                ON CONFLICT DO NOTHING
            )
            INSERT INTO decision_records
                (id, time, task_id, grant_id, agent, tool, allowed, reason, trace_id, record, leaf_index, leaf_hash, leaf_mac)
            SELECT id, time, task_id, grant_id, agent, CASE WHEN has_tool THEN tool END, allowed,
                   CASE WHEN has_reason THEN reason END, CASE WHEN has_trace_id THEN trace_id END, record, leaf_index,
                   decode(leaf_hash, 'hex'), decode(leaf_mac, 'hex')
            FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.time))::bigint[], \(rows.map(\.taskID))::text[],
                        \(rows.map(\.grantID))::text[], \(rows.map(\.agent))::text[], \(self.tools)::text[], \(self.hasTool)::boolean[],
                        \(rows.map(\.allowed))::bigint[], \(self.reasons)::text[], \(self.hasReason)::boolean[], \(self.traceIDs)::text[],
                        \(self.hasTraceID)::boolean[], \(rows.map(\.record))::text[], \(indices)::bigint[], \(self.hashes)::text[], \(macs)::text[])
                AS r(id, time, task_id, grant_id, agent, tool, has_tool, allowed, reason, has_reason, trace_id, has_trace_id, record, leaf_index,
                     leaf_hash, leaf_mac)
            WHERE EXISTS (SELECT 1 FROM head)
            RETURNING leaf_index
            """
    }
}

extension PostgresIdentityStore: DecisionRecordQueryRepository {
    public func decisionRecords(matching query: DecisionRecordQuery) async throws -> [IndexedDecisionRecord] {
        try await self.indexedRows(Self.postgresQuery(DecisionRecordQuerySQL(query))).map { stored in
            IndexedDecisionRecord(record: try DecisionRecordRows.record(stored.row), ledgerIndex: stored.index)
        }
    }

    /// The query's statement for PostgreSQL: each `?` becomes `$n`, its values bound in the same
    /// order, the limit last.
    static func postgresQuery(_ sql: DecisionRecordQuerySQL, prefix: String = "") -> PostgresQuery {
        var bindings = PostgresBindings()
        var text = prefix
        var number = 0
        for character in sql.statement {
            guard character == "?" else {
                text.append(character)
                continue
            }
            number += 1
            text += "$\(number)"
        }
        for value in sql.values {
            switch value {
            case .text(let string): bindings.append(string)
            case .int(let int): bindings.append(int)
            }
        }
        bindings.append(sql.limit)
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }
}

extension PostgresIdentityStore: DecisionRecordIndexRepository {
    public func ledgerRecordRows(from index: Int64, limit: Int) async throws -> [LedgerRecordRow] {
        let query: PostgresQuery = """
            SELECT \(unescaped: DecisionRecordRows.columns), leaf_index FROM decision_records
            WHERE leaf_index >= \(index) ORDER BY leaf_index LIMIT \(Int64(max(0, limit)))
            """
        return try await self.indexedRows(query).compactMap { stored in stored.index.map { LedgerRecordRow(index: $0, row: stored.row) } }
    }

    public func recordedGrants() async throws -> [RecordedGrantPair] {
        var pairs: [RecordedGrantPair] = []
        let rows = try await self.client.query("SELECT grant_id, task_id FROM decision_record_grants", logger: self.logger)
        for try await (grantID, taskID) in rows.decode((String, String).self) {
            pairs.append(RecordedGrantPair(grantID: grantID, taskID: taskID))
        }
        return pairs
    }
}
