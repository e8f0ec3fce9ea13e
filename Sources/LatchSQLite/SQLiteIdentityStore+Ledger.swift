import Foundation
import GRDB
public import LatchAudit
import LatchCore
import LatchStoreSupport

/// The ledger over the decision records: leaves are `decision_records` rows with a `leaf_index`
/// (appended by ``saveDecisionRecords(_:ledgerKey:)``), checkpoints in `ledger_checkpoints`, the
/// sealed keys in `ledger_keys`, the head in the `ledger` row of `store_revisions`.
extension SQLiteIdentityStore: LedgerRepository {
    public func ledgerEntries(from index: Int64, limit: Int) async throws -> [LedgerEntry] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT leaf_index, CAST(record AS BLOB), leaf_hash, leaf_mac FROM decision_records
                    WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?
                    """,
                arguments: [index, max(0, limit)]
            ).map { row in
                LedgerEntry(
                    index: row[0], bytes: Array((row[1] as Data?) ?? Data()), leafHash: Array((row[2] as Data?) ?? Data()),
                    mac: Array((row[3] as Data?) ?? Data()))
            }
        }
    }

    public func ledgerLeafHashes(from index: Int64, limit: Int) async throws -> [LedgerLeafHash] {
        try await self.pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT leaf_index, leaf_hash FROM decision_records WHERE leaf_index >= ? ORDER BY leaf_index LIMIT ?",
                arguments: [index, max(0, limit)]
            ).map { row in LedgerLeafHash(index: row[0], hash: Array((row[1] as Data?) ?? Data())) }
        }
    }

    public func ledgerSize() async throws -> Int64 {
        try await self.pool.read { db in try Self.ledgerHead(db) }
    }

    static func ledgerHead(_ db: Database) throws -> Int64 {
        guard
            let size = try Int64.fetchOne(db, sql: "SELECT revision FROM store_revisions WHERE name = ?", arguments: [StoreSchema.ledgerRevisionName])
        else { throw LatchError(.internalError, "store_revisions has no '\(StoreSchema.ledgerRevisionName)' row") }
        return size
    }

    public func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws {
        try await self.pool.write { db in
            try db.execute(
                sql: "INSERT INTO ledger_checkpoints (size, root_hash, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING",
                arguments: [checkpoint.size, Data(checkpoint.rootHash), checkpoint.note, checkpoint.createdAt])
        }
    }

    public func checkpoints() async throws -> [StoredCheckpoint] {
        try await self.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT size, root_hash, note, created_at FROM ledger_checkpoints ORDER BY size").map(Self.checkpoint)
        }
    }

    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        try await self.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT size, root_hash, note, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
                .map(Self.checkpoint)
        }
    }

    private static func checkpoint(_ row: Row) -> StoredCheckpoint {
        StoredCheckpoint(size: row[0], rootHash: Array((row[1] as Data?) ?? Data()), note: row[2], createdAt: row[3])
    }

    public func ledgerKeys() async throws -> StoredLedgerKeys? {
        try await self.pool.read { db in try Self.ledgerKeys(db) }
    }

    private static func ledgerKeys(_ db: Database) throws -> StoredLedgerKeys? {
        try Row.fetchOne(
            db, sql: "SELECT key_name, sealed_mac_key, sealed_signing_key, public_key, created_at FROM ledger_keys WHERE name = 'ledger'"
        ).map { row in
            StoredLedgerKeys(
                keyName: row[0], sealedMACKey: Array(row[1] as Data), sealedSigningKey: Array(row[2] as Data),
                publicKey: Array(row[3] as Data), createdAt: row[4])
        }
    }

    public func saveLedgerKeys(_ keys: StoredLedgerKeys) async throws -> StoredLedgerKeys {
        try await self.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO ledger_keys (name, key_name, sealed_mac_key, sealed_signing_key, public_key, created_at)
                    VALUES ('ledger', ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING
                    """,
                arguments: [keys.keyName, Data(keys.sealedMACKey), Data(keys.sealedSigningKey), Data(keys.publicKey), keys.createdAt])
            guard let stored = try Self.ledgerKeys(db) else { throw LatchError(.internalError, "the ledger keys were not stored") }
            return stored
        }
    }
}
