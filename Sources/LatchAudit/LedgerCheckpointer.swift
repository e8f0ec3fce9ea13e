public import LatchCore

/// Signs checkpoints of a growing ledger: ``checkpoint()`` reads the leaf hashes appended since
/// the last call, extends its ``MerkleFrontier`` and, when the tree grew, signs and stores a
/// checkpoint. Nothing on the call path: records are appended without it, and it catches up.
///
/// The first call reads every leaf hash once (32 bytes a leaf) to build the frontier.
public actor LedgerCheckpointer {
    public let repository: any LedgerRepository
    public let signer: CheckpointSigner
    let clock: any WallClock
    private var frontier = MerkleFrontier()
    private var lastSigned: Int64 = -1

    public init(repository: any LedgerRepository, signer: CheckpointSigner, clock: any WallClock) {
        self.repository = repository
        self.signer = signer
        self.clock = clock
    }

    /// Signs and stores a checkpoint of every leaf appended so far, if the tree grew since the
    /// last one (or none was stored yet); returns it, or nil when there was nothing new.
    @discardableResult
    public func checkpoint() async throws -> StoredCheckpoint? {
        while true {
            let page = try await self.repository.ledgerLeafHashes(from: self.frontier.size, limit: LedgerVerifier.pageSize)
            for leaf in page {
                // Appends commit in index order; a gap means a damaged store: stop before it.
                guard leaf.index == self.frontier.size else {
                    throw LatchError(.internalError, "ledger index \(self.frontier.size) is missing; not signing past it")
                }
                self.frontier.append(leaf.hash)
            }
            if page.count < LedgerVerifier.pageSize { break }
        }
        if self.lastSigned < 0, let latest = try await self.repository.latestCheckpoint(), latest.size == self.frontier.size {
            self.lastSigned = latest.size
        }
        guard self.frontier.size != self.lastSigned else { return nil }
        let checkpoint = Checkpoint(origin: self.signer.keyName, size: self.frontier.size, rootHash: self.frontier.rootHash)
        let stored = StoredCheckpoint(
            size: checkpoint.size, rootHash: checkpoint.rootHash, note: try self.signer.sign(checkpoint),
            createdAt: self.clock.now().milliseconds)
        try await self.repository.saveCheckpoint(stored)
        self.lastSigned = checkpoint.size
        return stored
    }
}
