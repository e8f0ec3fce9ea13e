import Foundation
public import LatchAudit
import LatchCore
public import LatchGateway
import LatchStoreSupport
import PostgresNIO
import Synchronization

extension PostgresIdentityStore: DecisionRecordRepository {
    /// One statement whatever the batch size, sent outside an explicit transaction (a single
    /// statement is atomic): a data-modifying CTE moves the ledger head from the index this
    /// handle expects (compare-and-set on the `ledger` revision row, whose lock serializes
    /// appends from every node, so indices have no gaps) and a multi-row `INSERT … SELECT FROM
    /// unnest(arrays)` stores the records with their indices, leaf hashes and MACs: one
    /// round-trip per batch while this handle is the only writer. When another writer moved the
    /// head first, nothing is stored and the batch goes the locked way: a transaction that moves
    /// the head with `UPDATE … RETURNING` (holding its row lock), then inserts (four round-trips,
    /// never retried). An ID already stored (unique violation) fails the batch, the head included.
    public func saveDecisionRecords(_ records: [DecisionRecord], ledgerKey: LedgerKey) async throws {
        guard !records.isEmpty else { return }
        try StoreValidation.validate(records)
        let rows = records.map(DecisionRecordRow.init)
        let leafHashes = rows.map { MerkleTree.leafHash($0.record.utf8) }
        // Arrays cannot carry NULL here: a flag per nullable column says whether its value is set
        // (an empty tool name is a value, not NULL).
        let tools = rows.map { $0.tool ?? "" }
        let hasTool = rows.map { $0.tool != nil }
        let reasons = rows.map { $0.reason ?? "" }
        let hasReason = rows.map { $0.reason != nil }
        // Hashes and MACs travel as hex text (postgres-nio encodes no bytea arrays) and are decoded by the server.
        let hashes = leafHashes.map(Self.hex)
        let count = Int64(rows.count)
        do {
            if let expected = self.expectedLedgerHead.withLock({ $0 }) {
                let indices = (0..<count).map { expected + $0 }
                let macs = indices.indices.map { Self.hex(ledgerKey.mac(index: indices[$0], leafHash: leafHashes[$0])) }
                let result = try await self.client.query(
                    """
                    WITH head AS (
                        UPDATE store_revisions SET revision = revision + \(count)
                        WHERE name = \(StoreSchema.ledgerRevisionName) AND revision = \(expected) RETURNING revision
                    )
                    INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record, leaf_index, leaf_hash, leaf_mac)
                    SELECT id, time, task_id, grant_id, agent, CASE WHEN has_tool THEN tool END, allowed,
                           CASE WHEN has_reason THEN reason END, record, leaf_index, decode(leaf_hash, 'hex'), decode(leaf_mac, 'hex')
                    FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.time))::bigint[], \(rows.map(\.taskID))::text[],
                                \(rows.map(\.grantID))::text[], \(rows.map(\.agent))::text[], \(tools)::text[], \(hasTool)::boolean[],
                                \(rows.map(\.allowed))::bigint[], \(reasons)::text[], \(hasReason)::boolean[], \(rows.map(\.record))::text[],
                                \(indices)::bigint[], \(hashes)::text[], \(macs)::text[])
                        AS r(id, time, task_id, grant_id, agent, tool, has_tool, allowed, reason, has_reason, record, leaf_index, leaf_hash, leaf_mac)
                    WHERE EXISTS (SELECT 1 FROM head)
                    RETURNING leaf_index
                    """, logger: self.logger)
                var inserted = 0
                for try await _ in result.decode(Int64.self) { inserted += 1 }
                if inserted == rows.count {
                    // Only forward: a concurrent batch of this handle may have moved it further.
                    self.expectedLedgerHead.withLock { $0 = max($0 ?? 0, expected + count) }
                    return
                }
            }
            // The head moved (or is unknown): the locked way.
            let end = try await self.transaction { connection in
                let heads = try await connection.query(
                    """
                    UPDATE store_revisions SET revision = revision + \(count) WHERE name = \(StoreSchema.ledgerRevisionName)
                    RETURNING revision
                    """, logger: self.logger)
                var end: Int64?
                for try await revision in heads.decode(Int64.self) { end = revision }
                guard let end else { throw LatchError(.internalError, "store_revisions has no 'ledger' row") }
                let indices = (0..<count).map { end - count + $0 }
                let macs = indices.indices.map { Self.hex(ledgerKey.mac(index: indices[$0], leafHash: leafHashes[$0])) }
                try await connection.query(
                    """
                    INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, record, leaf_index, leaf_hash, leaf_mac)
                    SELECT id, time, task_id, grant_id, agent, CASE WHEN has_tool THEN tool END, allowed,
                           CASE WHEN has_reason THEN reason END, record, leaf_index, decode(leaf_hash, 'hex'), decode(leaf_mac, 'hex')
                    FROM unnest(\(rows.map(\.id))::text[], \(rows.map(\.time))::bigint[], \(rows.map(\.taskID))::text[],
                                \(rows.map(\.grantID))::text[], \(rows.map(\.agent))::text[], \(tools)::text[], \(hasTool)::boolean[],
                                \(rows.map(\.allowed))::bigint[], \(reasons)::text[], \(hasReason)::boolean[], \(rows.map(\.record))::text[],
                                \(indices)::bigint[], \(hashes)::text[], \(macs)::text[])
                        AS r(id, time, task_id, grant_id, agent, tool, has_tool, allowed, reason, has_reason, record, leaf_index, leaf_hash, leaf_mac)
                    """, logger: self.logger)
                return end
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
                SELECT \(unescaped: DecisionRecordRows.columns) FROM decision_records WHERE task_id = \(taskID)
                ORDER BY time DESC, id DESC LIMIT \(limit)
                """
        } else {
            query = "SELECT \(unescaped: DecisionRecordRows.columns) FROM decision_records ORDER BY time DESC, id DESC LIMIT \(limit)"
        }
        var records: [DecisionRecord] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (id, time, taskID, grantID, agent, tool, allowed, reason, record) in rows.decode(
            (String, Int64, String, String, String, String?, Int64, String?, String).self)
        {
            records.append(
                try DecisionRecordRows.record(
                    DecisionRecordRow(
                        id: id, time: time, taskID: taskID, grantID: grantID, agent: agent, tool: tool, allowed: allowed, reason: reason,
                        record: record)))
        }
        return records
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
