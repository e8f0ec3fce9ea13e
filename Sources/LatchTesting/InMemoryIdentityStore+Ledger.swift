public import LatchAudit
import LatchCore
import LatchGateway
public import LatchStoreSupport
import Synchronization

extension InMemoryIdentityStore: LedgerRepository {
    public func ledgerEntries(from index: Int64, limit: Int) async throws -> [LedgerEntry] {
        self.state.withLock { state in
            guard index < Int64(state.ledger.count) else { return [] }
            return Array(state.ledger[Int(max(0, index))...].prefix(max(0, limit)))
        }
    }

    public func ledgerLeafHashes(from index: Int64, limit: Int) async throws -> [LedgerLeafHash] {
        try await self.ledgerEntries(from: index, limit: limit).map { LedgerLeafHash(index: $0.index, hash: $0.leafHash) }
    }

    public func ledgerSize() async throws -> Int64 { self.state.withLock { Int64($0.ledger.count) } }

    public func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws {
        self.state.withLock { state in
            if state.checkpoints[checkpoint.size] == nil { state.checkpoints[checkpoint.size] = checkpoint }
        }
    }

    public func checkpoints() async throws -> [StoredCheckpoint] {
        self.state.withLock { state in state.checkpoints.keys.sorted().compactMap { state.checkpoints[$0] } }
    }

    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        self.state.withLock { state in state.checkpoints.keys.max().flatMap { state.checkpoints[$0] } }
    }

    public func ledgerKeys() async throws -> StoredLedgerKeys? { self.state.withLock { $0.ledgerKeys } }

    public func saveLedgerKeys(_ keys: StoredLedgerKeys) async throws -> StoredLedgerKeys {
        self.state.withLock { state in
            if state.ledgerKeys == nil { state.ledgerKeys = keys }
            return state.ledgerKeys ?? keys
        }
    }
}

extension InMemoryIdentityStore: DecisionRecordIndexRepository {
    /// Rows as a store would hold them: each record's columns and canonical JSON, by ledger index.
    public func ledgerRecordRows(from index: Int64, limit: Int) async throws -> [LedgerRecordRow] {
        self.state.withLock { state in
            state.decisionRecordIndices.compactMap { id, leaf in
                guard leaf >= index, let record = state.decisionRecords[id] else { return nil }
                return LedgerRecordRow(index: leaf, row: DecisionRecordRow(record))
            }
            .sorted { $0.index < $1.index }.prefix(max(0, limit)).map { $0 }
        }
    }

    /// No separate table in memory: the pairs the records have.
    public func recordedGrants() async throws -> [RecordedGrantPair] {
        self.state.withLock { state in
            Array(Set(state.decisionRecords.values.map { RecordedGrantPair(grantID: $0.grantID, taskID: $0.taskID) }))
        }
    }
}
