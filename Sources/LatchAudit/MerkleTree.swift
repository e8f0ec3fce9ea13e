import Crypto

/// The Merkle tree of RFC 9162 §2.1 over SHA-256: hashes, inclusion and consistency proofs, and
/// their verification (the RFC's algorithms, §2.1.3 and §2.1.4).
///
/// Hashes are 32-byte arrays. A leaf's hash is `SHA-256(0x00 ‖ bytes)`, an interior node's
/// `SHA-256(0x01 ‖ left ‖ right)`, the empty tree's `SHA-256()`; a tree of `n > 1` leaves splits
/// at `k`, the largest power of two below `n`.
public enum MerkleTree {
    /// The size of every hash.
    public static let hashSize = 32

    public static func leafHash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(bytes))
        return Array(hasher.finalize())
    }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// `MTH({})`.
    public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    /// The root hash of the tree whose leaf hashes are `leaves`, in order.
    public static func rootHash(_ leaves: some Collection<[UInt8]>) -> [UInt8] {
        var frontier = MerkleFrontier()
        for leaf in leaves { frontier.append(leaf) }
        return frontier.rootHash
    }

    /// The largest power of two smaller than `n` (`n` at least 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// `MTH` of a slice of leaf hashes.
    static func subtreeHash(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return Self.emptyRoot
        case 1: return leaves[leaves.startIndex]
        default:
            let k = Self.split(leaves.count)
            let middle = leaves.startIndex + k
            return Self.nodeHash(Self.subtreeHash(leaves[..<middle]), Self.subtreeHash(leaves[middle...]))
        }
    }

    // MARK: Inclusion

    /// The audit path of leaf `index` in the tree of `leaves` (RFC 9162 §2.1.3.1), nearest the
    /// leaf first; nil when `index` is outside the tree.
    public static func inclusionProof(index: Int, leaves: [[UInt8]]) -> [[UInt8]]? {
        guard index >= 0, index < leaves.count else { return nil }
        var proof: [[UInt8]] = []
        Self.path(index, leaves[...], into: &proof)
        return proof.reversed()
    }

    /// Appends PATH(m, D) from the root down (the caller reverses it).
    private static func path(_ m: Int, _ leaves: ArraySlice<[UInt8]>, into proof: inout [[UInt8]]) {
        guard leaves.count > 1 else { return }
        let k = Self.split(leaves.count)
        let middle = leaves.startIndex + k
        if m < k {
            proof.append(Self.subtreeHash(leaves[middle...]))
            Self.path(m, leaves[..<middle], into: &proof)
        } else {
            proof.append(Self.subtreeHash(leaves[..<middle]))
            Self.path(m - k, leaves[middle...], into: &proof)
        }
    }

    /// Whether `proof` shows the leaf hash `leafHash` at `index` in a tree of `treeSize` leaves
    /// with root `rootHash` (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leafHash: [UInt8], index: Int64, treeSize: Int64, proof: [[UInt8]], rootHash: [UInt8]) -> Bool {
        guard index >= 0, index < treeSize, leafHash.count == Self.hashSize else { return false }
        var fn = UInt64(index)
        var sn = UInt64(treeSize - 1)
        var r = leafHash
        for p in proof {
            guard sn != 0, p.count == Self.hashSize else { return false }
            if fn & 1 == 1 || fn == sn {
                r = Self.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = Self.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == rootHash
    }

    // MARK: Consistency

    /// The consistency proof between the first `oldSize` leaves and all of `leaves` (RFC 9162
    /// §2.1.4.1); empty when `oldSize` is 0 or the whole tree; nil when `oldSize` is out of range.
    public static func consistencyProof(oldSize: Int, leaves: [[UInt8]]) -> [[UInt8]]? {
        guard oldSize >= 0, oldSize <= leaves.count else { return nil }
        guard oldSize > 0, oldSize < leaves.count else { return [] }
        var proof: [[UInt8]] = []
        Self.subproof(oldSize, leaves[...], complete: true, into: &proof)
        return proof
    }

    private static func subproof(_ m: Int, _ leaves: ArraySlice<[UInt8]>, complete: Bool, into proof: inout [[UInt8]]) {
        let n = leaves.count
        if m == n {
            if !complete { proof.append(Self.subtreeHash(leaves)) }
            return
        }
        let k = Self.split(n)
        let middle = leaves.startIndex + k
        if m <= k {
            Self.subproof(m, leaves[..<middle], complete: complete, into: &proof)
            proof.append(Self.subtreeHash(leaves[middle...]))
        } else {
            Self.subproof(m - k, leaves[middle...], complete: false, into: &proof)
            proof.append(Self.subtreeHash(leaves[..<middle]))
        }
    }

    /// Whether `proof` shows the tree of `oldSize` leaves with root `oldRoot` is a prefix of the
    /// tree of `newSize` leaves with root `newRoot` (RFC 9162 §2.1.4.2; equal sizes need equal
    /// roots and an empty proof, and the empty tree is a prefix of every tree).
    public static func verifyConsistency(oldSize: Int64, newSize: Int64, oldRoot: [UInt8], newRoot: [UInt8], proof: [[UInt8]]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == Self.hashSize }) else { return false }
        var path = proof
        if oldSize & (oldSize - 1) == 0 { path.insert(oldRoot, at: 0) }
        var fn = UInt64(oldSize - 1)
        var sn = UInt64(newSize - 1)
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = Self.nodeHash(c, fr)
                sr = Self.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = Self.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest (leftmost) first,
/// at most one per power of two. Appending a leaf costs O(1) hashes amortized, the root O(log n):
/// a checkpointer keeps one instead of re-reading every leaf.
public struct MerkleFrontier: Hashable, Sendable {
    /// Perfect subtree roots and their sizes, left to right.
    private var nodes: [(hash: [UInt8], size: Int64)] = []
    /// Leaves appended.
    public private(set) var size: Int64 = 0

    public init() {}

    public mutating func append(_ leafHash: [UInt8]) {
        var hash = leafHash
        var size: Int64 = 1
        while let last = self.nodes.last, last.size == size {
            self.nodes.removeLast()
            hash = MerkleTree.nodeHash(last.hash, hash)
            size *= 2
        }
        self.nodes.append((hash, size))
        self.size += 1
    }

    /// The root hash of the leaves appended so far.
    public var rootHash: [UInt8] {
        guard var root = self.nodes.last?.hash else { return MerkleTree.emptyRoot }
        for node in self.nodes.dropLast().reversed() { root = MerkleTree.nodeHash(node.hash, root) }
        return root
    }

    public static func == (lhs: MerkleFrontier, rhs: MerkleFrontier) -> Bool {
        lhs.size == rhs.size && lhs.nodes.elementsEqual(rhs.nodes) { $0.hash == $1.hash && $0.size == $1.size }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.size)
        for node in self.nodes { hasher.combine(node.hash) }
    }
}
