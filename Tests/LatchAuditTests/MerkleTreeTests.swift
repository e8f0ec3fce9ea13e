import Crypto
import LatchAudit
import Testing

@Suite("MerkleTree")
struct MerkleTreeTests {
    /// RFC 9162 §2.1.1 MTH, written straight from the definition.
    static func naiveRoot(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        if leaves.isEmpty { return Array(SHA256.hash(data: [UInt8]())) }
        if leaves.count == 1 { return Array(SHA256.hash(data: [0x00] + leaves[leaves.startIndex])) }
        var k = 1
        while k * 2 < leaves.count { k *= 2 }
        let middle = leaves.startIndex + k
        return Array(SHA256.hash(data: [0x01] + naiveRoot(leaves[..<middle]) + naiveRoot(leaves[middle...])))
    }

    static let data: [[UInt8]] = (0..<70).map { Array("leaf \($0)".utf8) }
    static let hashes = data.map(MerkleTree.leafHash)

    @Test("the root of every size 0…70 equals the naive MTH, by the frontier too")
    func roots() {
        for n in 0...70 {
            let root = MerkleTree.rootHash(Self.hashes[0..<n])
            #expect(root == Self.naiveRoot(Self.data[0..<n]), "size \(n)")
            var frontier = MerkleFrontier()
            for hash in Self.hashes[0..<n] { frontier.append(hash) }
            #expect(frontier.rootHash == root && frontier.size == Int64(n))
        }
    }

    @Test("every inclusion proof in trees of size 1…70 verifies, and fails for another leaf, index or a changed hash")
    func inclusion() throws {
        for n in 1...70 {
            let leaves = Array(Self.hashes[0..<n])
            let root = Self.naiveRoot(Self.data[0..<n])
            for index in 0..<n {
                let proof = try #require(MerkleTree.inclusionProof(index: index, leaves: leaves))
                #expect(MerkleTree.verifyInclusion(leafHash: leaves[index], index: Int64(index), treeSize: Int64(n), proof: proof, rootHash: root))
                let other = leaves[(index + 1) % n]
                if n > 1 {
                    #expect(!MerkleTree.verifyInclusion(leafHash: other, index: Int64(index), treeSize: Int64(n), proof: proof, rootHash: root))
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaves[index], index: Int64((index + 1) % n), treeSize: Int64(n), proof: proof, rootHash: root))
                }
                if var first = proof.first {
                    first[0] ^= 1
                    #expect(
                        !MerkleTree.verifyInclusion(
                            leafHash: leaves[index], index: Int64(index), treeSize: Int64(n), proof: [first] + proof.dropFirst(), rootHash: root))
                }
            }
            #expect(MerkleTree.inclusionProof(index: n, leaves: leaves) == nil)
            // The proof does not commit to the size (the signed checkpoint does): an index outside it fails.
            #expect(!MerkleTree.verifyInclusion(leafHash: leaves[0], index: Int64(n), treeSize: Int64(n), proof: [], rootHash: root))
        }
    }

    @Test("every consistency proof between sizes 0…70 verifies, and fails against another old or new root")
    func consistency() throws {
        let roots = (0...70).map { Self.naiveRoot(Self.data[0..<$0]) }
        for n in 1...70 {
            let leaves = Array(Self.hashes[0..<n])
            for m in 0...n {
                let proof = try #require(MerkleTree.consistencyProof(oldSize: m, leaves: leaves))
                #expect(
                    MerkleTree.verifyConsistency(oldSize: Int64(m), newSize: Int64(n), oldRoot: roots[m], newRoot: roots[n], proof: proof),
                    "\(m) → \(n)")
                if m > 0 && m < n {
                    #expect(
                        !MerkleTree.verifyConsistency(oldSize: Int64(m), newSize: Int64(n), oldRoot: roots[m - 1], newRoot: roots[n], proof: proof))
                    #expect(
                        !MerkleTree.verifyConsistency(oldSize: Int64(m), newSize: Int64(n), oldRoot: roots[m], newRoot: roots[n - 1], proof: proof))
                }
            }
        }
    }
}
