/// A signed checkpoint as stored: its size and root (copies of what the note says, for queries)
/// and the signed note itself.
public struct StoredCheckpoint: Hashable, Sendable {
    public var size: Int64
    public var rootHash: [UInt8]
    /// The C2SP signed note (``CheckpointSigner/sign(_:)``).
    public var note: String
    /// Milliseconds since the epoch, when it was signed.
    public var createdAt: Int64

    public init(size: Int64, rootHash: [UInt8], note: String, createdAt: Int64) {
        self.size = size
        self.rootHash = rootHash
        self.note = note
        self.createdAt = createdAt
    }
}

/// The ledger's keys as stored: the MAC key and the checkpoint signing key sealed under the
/// key-encryption key (never clear), the signing key's public half and its name.
public struct StoredLedgerKeys: Hashable, Sendable {
    /// The signed-note key name, also every checkpoint's origin.
    public var keyName: String
    /// `nonce ‖ ciphertext ‖ tag` of the 32-byte ``LedgerKey``.
    public var sealedMACKey: [UInt8]
    /// `nonce ‖ ciphertext ‖ tag` of the raw P-256 private key.
    public var sealedSigningKey: [UInt8]
    /// DER SubjectPublicKeyInfo of the checkpoint key.
    public var publicKey: [UInt8]
    public var createdAt: Int64

    public init(keyName: String, sealedMACKey: [UInt8], sealedSigningKey: [UInt8], publicKey: [UInt8], createdAt: Int64) {
        self.keyName = keyName
        self.sealedMACKey = sealedMACKey
        self.sealedSigningKey = sealedSigningKey
        self.publicKey = publicKey
        self.createdAt = createdAt
    }
}

/// A leaf's index and hash, what a checkpointer reads.
public struct LedgerLeafHash: Hashable, Sendable {
    public var index: Int64
    public var hash: [UInt8]

    public init(index: Int64, hash: [UInt8]) {
        self.index = index
        self.hash = hash
    }
}

/// Where the ledger lives: implemented by every store (SQLite, PostgreSQL, in memory), whose
/// decision records are its leaves. Appending is the record store's job (each record gets the
/// next index inside the transaction that stores it); this is reading, checkpoints and keys.
public protocol LedgerRepository: Sendable {
    /// Stored entries with index at least `from`, in index order, at most `limit`. Read as they
    /// are: a damaged row is returned, not skipped, so a verifier can name it.
    func ledgerEntries(from index: Int64, limit: Int) async throws -> [LedgerEntry]
    /// Stored leaf hashes with index at least `from`, in index order, at most `limit`.
    func ledgerLeafHashes(from index: Int64, limit: Int) async throws -> [LedgerLeafHash]
    /// How many leaves have been appended (the head counter the appends advance).
    func ledgerSize() async throws -> Int64
    /// Stores a checkpoint; one of the same size already stored is kept (a no-op).
    func saveCheckpoint(_ checkpoint: StoredCheckpoint) async throws
    /// Every stored checkpoint, smallest first.
    func checkpoints() async throws -> [StoredCheckpoint]
    /// The largest stored checkpoint.
    func latestCheckpoint() async throws -> StoredCheckpoint?
    /// The ledger's keys, if created.
    func ledgerKeys() async throws -> StoredLedgerKeys?
    /// Stores `keys` unless keys are stored already; returns the stored ones (so of two nodes
    /// creating keys at once, both use the first's).
    func saveLedgerKeys(_ keys: StoredLedgerKeys) async throws -> StoredLedgerKeys
}
