import LatchCore

/// What is wrong with a ledger, at which index when one can be named.
public struct LedgerProblem: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// A leaf's bytes do not hash to its stored leaf hash: the record was modified.
        case modified
        /// A leaf's MAC does not verify: the row was altered, moved or inserted without the key.
        case badMAC = "bad_mac"
        /// An index is missing from the sequence (a deleted row), or the ledger ends before its
        /// head counter or a checkpoint says it should.
        case missing
        /// An index appears twice, or beyond the head counter (an inserted row).
        case unexpected
        /// A stored or trusted checkpoint does not verify, or the rebuilt tree disagrees with it.
        case checkpoint
        /// A row's query columns (task, grant, agent, tool, decision, reason, trace, time)
        /// disagree with its record: queries filtering on them would miss or misplace it. Found
        /// by the store's check beside this verifier (`DecisionRecordIndexCheck`).
        case columns
        /// A grant's records are missing from the table grant queries go through, so `audit
        /// query --grant` would not find them (`DecisionRecordIndexCheck`).
        case grantIndex = "grant_index"
    }

    public var index: Int64?
    public var kind: Kind
    public var message: String

    public init(index: Int64?, kind: Kind, message: String) {
        self.index = index
        self.kind = kind
        self.message = message
    }

    public var description: String {
        if let index { return "index \(index): \(self.kind.rawValue): \(self.message)" }
        return "\(self.kind.rawValue): \(self.message)"
    }
}

/// The outcome of ``LedgerVerifier/verify(trusted:)``.
public struct LedgerVerification: Hashable, Sendable {
    /// Leaves read (in index order, as stored).
    public var leaves: Int64
    /// The head counter.
    public var headSize: Int64
    /// The root of the tree rebuilt from every leaf read.
    public var rootHash: [UInt8]
    /// Stored checkpoints checked (signature, and root against the rebuilt tree).
    public var checkpointsChecked: Int
    /// Problems found, smallest index first (unindexed ones last), at most ``LedgerVerifier/maxProblems``.
    public var problems: [LedgerProblem]

    public init(leaves: Int64, headSize: Int64, rootHash: [UInt8], checkpointsChecked: Int, problems: [LedgerProblem]) {
        self.leaves = leaves
        self.headSize = headSize
        self.rootHash = rootHash
        self.checkpointsChecked = checkpointsChecked
        self.problems = problems
    }

    public var isValid: Bool { self.problems.isEmpty }
    /// The first bad index, if any problem names one.
    public var firstBadIndex: Int64? { self.problems.compactMap(\.index).min() }
}

/// Checks a ledger from scratch: every leaf hash recomputed from its bytes, every MAC checked,
/// the indices contiguous from 0 up to the head counter, the tree rebuilt, every stored
/// checkpoint's signature checked and its root compared with the rebuilt tree at its size, and
/// optionally that the ledger extends a checkpoint the caller trusts.
///
/// What it catches: a row modified, deleted, inserted or moved by someone without the MAC key is
/// named by its index. Someone holding the MAC key can rewrite rows consistently; then the
/// signed checkpoints (stored, and the trusted one) still show the tree changed, up to the
/// latest checkpoint. Records appended after the latest checkpoint and then deleted by someone
/// with write access to the whole store leave no trace but in a checkpoint kept elsewhere.
public struct LedgerVerifier: Sendable {
    public static let maxProblems = 100
    /// Entries read per query.
    public static let pageSize = 4096

    public let repository: any LedgerRepository
    public let key: LedgerKey
    public let checkpointVerifier: CheckpointVerifier

    public init(repository: any LedgerRepository, key: LedgerKey, checkpointVerifier: CheckpointVerifier) {
        self.repository = repository
        self.key = key
        self.checkpointVerifier = checkpointVerifier
    }

    /// Verifies the whole ledger; `trusted` is a signed checkpoint note from elsewhere that the
    /// ledger must extend.
    public func verify(trusted: String? = nil) async throws -> LedgerVerification {
        var problems: [LedgerProblem] = []
        func report(_ problem: LedgerProblem) {
            if problems.count < Self.maxProblems { problems.append(problem) }
        }
        let head = try await self.repository.ledgerSize()
        // Checkpoints to compare with the tree as it is rebuilt, by size.
        var expected: [Int64: [(root: [UInt8], what: String)]] = [:]
        let stored = try await self.repository.checkpoints()
        for checkpoint in stored {
            do {
                let signed = try self.checkpointVerifier.verify(note: checkpoint.note)
                guard signed.size == checkpoint.size, signed.rootHash == checkpoint.rootHash else {
                    report(
                        LedgerProblem(
                            index: nil, kind: .checkpoint, message: "stored checkpoint \(checkpoint.size): its columns disagree with its signed note")
                    )
                    continue
                }
                expected[signed.size, default: []].append((signed.rootHash, "stored checkpoint \(signed.size)"))
            } catch {
                report(LedgerProblem(index: nil, kind: .checkpoint, message: "stored checkpoint \(checkpoint.size): \(error.message)"))
            }
        }
        if let trusted {
            do {
                let signed = try self.checkpointVerifier.verify(note: trusted)
                expected[signed.size, default: []].append((signed.rootHash, "the trusted checkpoint (size \(signed.size))"))
            } catch {
                report(LedgerProblem(index: nil, kind: .checkpoint, message: "the trusted checkpoint: \(error.message)"))
            }
        }

        var frontier = MerkleFrontier()
        var checked = 0
        func compareCheckpoints() {
            guard let due = expected.removeValue(forKey: frontier.size) else { return }
            let root = frontier.rootHash
            for (checkpointRoot, what) in due {
                checked += 1
                if checkpointRoot != root {
                    report(
                        LedgerProblem(
                            index: frontier.size - 1, kind: .checkpoint,
                            message: "the tree of the first \(frontier.size) leaves does not match \(what)"))
                }
            }
        }
        compareCheckpoints()  // a checkpoint of the empty tree
        var next: Int64 = 0
        var leaves: Int64 = 0
        while true {
            let page = try await self.repository.ledgerEntries(from: next, limit: Self.pageSize)
            for entry in page {
                leaves += 1
                let position = frontier.size
                if entry.index > position {
                    let gap = entry.index - position == 1 ? "index \(position) is" : "indices \(position)…\(entry.index - 1) are"
                    report(LedgerProblem(index: position, kind: .missing, message: "\(gap) missing (deleted)"))
                } else if entry.index < position {
                    report(LedgerProblem(index: entry.index, kind: .unexpected, message: "the index appears twice"))
                    continue
                }
                if entry.index >= head {
                    report(LedgerProblem(index: entry.index, kind: .unexpected, message: "a leaf beyond the head counter (\(head)): inserted"))
                }
                let hash = MerkleTree.leafHash(entry.bytes)
                if hash != entry.leafHash {
                    report(LedgerProblem(index: entry.index, kind: .modified, message: "the record's bytes do not hash to its leaf hash"))
                } else if !self.key.isValid(mac: entry.mac, index: entry.index, leafHash: entry.leafHash) {
                    report(
                        LedgerProblem(index: entry.index, kind: .badMAC, message: "the MAC does not verify: the row was altered, moved or inserted"))
                }
                // The tree is rebuilt from the bytes as stored, at the positions they are stored.
                while frontier.size < entry.index {
                    // Missing leaves: keep positions aligned so later checks still name indices.
                    frontier.append(MerkleTree.emptyRoot)
                    compareCheckpoints()
                }
                frontier.append(hash)
                compareCheckpoints()
            }
            guard page.count == Self.pageSize, let last = page.last else { break }
            next = last.index + 1
        }
        if frontier.size < head {
            report(
                LedgerProblem(
                    index: frontier.size, kind: .missing, message: "the ledger ends at \(frontier.size) but its head counter says \(head): deleted"))
        }
        for (size, due) in expected where size > frontier.size {
            for (_, what) in due {
                report(
                    LedgerProblem(
                        index: frontier.size, kind: .missing,
                        message: "the ledger ends at \(frontier.size) but \(what) covers \(size) leaves: deleted"))
            }
        }
        problems.sort { a, b in
            switch (a.index, b.index) {
            case (let x?, let y?): return x < y
            case (.some, nil): return true
            default: return false
            }
        }
        return LedgerVerification(leaves: leaves, headSize: head, rootHash: frontier.rootHash, checkpointsChecked: checked, problems: problems)
    }
}
