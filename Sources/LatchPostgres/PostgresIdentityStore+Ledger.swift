import Foundation
public import LatchAudit
import LatchCore
import LatchStoreSupport
import PostgresNIO

/// The ledger over the decision records (see the SQLite store for the layout; same tables).
extension PostgresIdentityStore: LedgerRepository {
    public func ledgerEntries(from index: Int64, limit: Int) async throws -> [LedgerEntry] {
        let rows = try await self.client.query(
            """
            SELECT leaf_index, record, leaf_hash, leaf_mac FROM decision_records
            WHERE leaf_index >= \(index) ORDER BY leaf_index LIMIT \(Int64(max(0, limit)))
            """, logger: self.logger)
        var entries: [LedgerEntry] = []
        for try await (leafIndex, record, hash, mac) in rows.decode((Int64, String, Data?, Data?).self) {
            entries.append(
                LedgerEntry(index: leafIndex, bytes: Array(record.utf8), leafHash: Array(hash ?? Data()), mac: Array(mac ?? Data())))
        }
        return entries
    }

    public func ledgerLeafHashes(from index: Int64, limit: Int) async throws -> [LedgerLeafHash] {
        let rows = try await self.client.query(
            """
            SELECT leaf_index, leaf_hash FROM decision_records
            WHERE leaf_index >= \(index) ORDER BY leaf_index LIMIT \(Int64(max(0, limit)))
            """, logger: self.logger)
        var hashes: [LedgerLeafHash] = []
        for try await (leafIndex, hash) in rows.decode((Int64, Data?).self) {
            hashes.append(LedgerLeafHash(index: leafIndex, hash: Array(hash ?? Data())))
        }
        return hashes
    }

    public func ledgerSize() async throws -> Int64 {
        try await self.revision(StoreSchema.ledgerRevisionName)
    }

    public func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws {
        try await self.client.query(
            """
            INSERT INTO ledger_checkpoints (size, root_hash, note, created_at)
            VALUES (\(checkpoint.size), \(Data(checkpoint.rootHash)), \(checkpoint.note), \(checkpoint.createdAt))
            ON CONFLICT (size) DO NOTHING
            """, logger: self.logger)
    }

    public func checkpoints() async throws -> [StoredCheckpoint] {
        try await self.checkpoints("SELECT size, root_hash, note, created_at FROM ledger_checkpoints ORDER BY size")
    }

    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        try await self.checkpoints("SELECT size, root_hash, note, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1").first
    }

    private func checkpoints(_ query: PostgresQuery) async throws -> [StoredCheckpoint] {
        var checkpoints: [StoredCheckpoint] = []
        let rows = try await self.client.query(query, logger: self.logger)
        for try await (size, root, note, createdAt) in rows.decode((Int64, Data, String, Int64).self) {
            checkpoints.append(StoredCheckpoint(size: size, rootHash: Array(root), note: note, createdAt: createdAt))
        }
        return checkpoints
    }

    public func ledgerKeys() async throws -> StoredLedgerKeys? {
        let rows = try await self.client.query(
            "SELECT key_name, sealed_mac_key, sealed_signing_key, public_key, created_at FROM ledger_keys WHERE name = 'ledger'",
            logger: self.logger)
        for try await (keyName, mac, signing, publicKey, createdAt) in rows.decode((String, Data, Data, Data, Int64).self) {
            return StoredLedgerKeys(
                keyName: keyName, sealedMACKey: Array(mac), sealedSigningKey: Array(signing), publicKey: Array(publicKey), createdAt: createdAt)
        }
        return nil
    }

    public func saveLedgerKeys(_ keys: StoredLedgerKeys) async throws -> StoredLedgerKeys {
        try await self.client.query(
            """
            INSERT INTO ledger_keys (name, key_name, sealed_mac_key, sealed_signing_key, public_key, created_at)
            VALUES ('ledger', \(keys.keyName), \(Data(keys.sealedMACKey)), \(Data(keys.sealedSigningKey)), \(Data(keys.publicKey)),
                    \(keys.createdAt))
            ON CONFLICT (name) DO NOTHING
            """, logger: self.logger)
        guard let stored = try await self.ledgerKeys() else { throw LatchError(.internalError, "the ledger keys were not stored") }
        return stored
    }
}
