public import LatchAudit
public import LatchCore

/// A ``DecisionRecorder`` writing to a store: concurrent calls are joined into batches
/// (``GroupCommit``), one ``DecisionRecordRepository/saveDecisionRecords(_:ledgerKey:)`` transaction per
/// batch, so under load the durable commit (an `fsync`, a round-trip) is paid once per batch
/// rather than once per tool call.
///
/// Each transaction also appends its records to the audit ledger (the next indices, leaf hashes
/// and MACs under `ledgerKey`): no signature and no tree walk per call; checkpoints are signed
/// apart (`LedgerCheckpointer`). Each caller encodes its own record (canonical JSON, leaf hash)
/// before joining a batch, so that work runs in parallel, outside the one writer.
///
/// ``record(_:)`` returns only after the transaction holding its record committed. A batch is
/// all or nothing: when it fails (the store is down, a record is rejected), every call whose
/// record was in it throws, and the gateway answers each of those calls with an error.
public final class StoreDecisionRecorder: DecisionRecorder {
    public let repository: any DecisionRecordRepository
    private let commits: GroupCommit<EncodedDecisionRecord>

    /// - Parameters:
    ///   - maxBatch: the most records in one transaction (default 512).
    ///   - concurrentCommits: transactions in flight at once (default 1): 1 suits SQLite, where
    ///     commits serialize anyway; more suits PostgreSQL, where a commit is mostly a round-trip.
    public init(repository: any DecisionRecordRepository, ledgerKey: LedgerKey, maxBatch: Int = 512, concurrentCommits: Int = 1) {
        self.repository = repository
        self.commits = GroupCommit(maxBatch: maxBatch, maxWriters: concurrentCommits) { records in
            try await repository.saveDecisionRecords(records, ledgerKey: ledgerKey)
        }
    }

    public func record(_ record: DecisionRecord) async throws {
        try await self.commits.submit(EncodedDecisionRecord(record))
    }
}
