import ArgumentParser
import Foundation
import LatchAudit
import LatchCore
import LatchIdentity
import LatchServer
import LatchStoreSupport
import Logging

/// `latch audit verify [--from CHECKPOINT_FILE] [--json]`
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the ledger: every record's hash and MAC, the index sequence, the tree and every signed checkpoint.",
        discussion: """
            Recomputes every leaf hash from the stored record bytes, checks each leaf's MAC (the ledger key, sealed under \
            the KEK: give the KEK as for latch serve), checks that indices run from 0 to the head without gaps, rebuilds \
            the Merkle tree and checks each stored checkpoint's signature and root. With --from, the ledger must also \
            extend that signed checkpoint (kept outside the store). Also checks what queries read beside each record: \
            its columns against its record (columns) and the table grant queries go through (grant_index). Exits 1 \
            naming the first bad index and what is wrong.
            """
    )

    @OptionGroup var server: ServerOptions
    @Option(name: .customLong("from"), help: "A signed checkpoint (C2SP note) the ledger must extend.") var from: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        var trusted: String?
        if let path = self.from {
            do { trusted = String(decoding: try readWholeFile(path: path, limit: CheckpointVerifier.maxNoteBytes), as: UTF8.self) } catch {
                throw ValidationError("--from: \(error.message)")
            }
        }
        let configuration = try self.server.configuration()
        let note = trusted
        let result: LedgerVerification = try await self.server.withStore { store in
            guard let stored = try await store.ledgerKeys() else {
                // No keys: nothing was ever appended (the server creates them before its first record).
                let size = try await store.ledgerSize()
                guard size == 0, note == nil else { throw LatchError(.notFound, "the ledger has \(size) leaves but no keys") }
                return LedgerVerification(leaves: 0, headSize: 0, rootHash: MerkleTree.emptyRoot, checkpointsChecked: 0, problems: [])
            }
            let keys = try AuditKeys.open(stored, configuration: configuration)
            let result = try await LedgerVerifier(repository: store, key: keys.mac, checkpointVerifier: keys.signer.verifier).verify(trusted: note)
            // What the hashes cannot see: the query columns and the grant table.
            return try await DecisionRecordIndexCheck.adding(to: result, from: store)
        }
        if self.json {
            let problems = result.problems.map { problem in
                JSONValue.object([
                    "index": problem.index.map(JSONValue.int) ?? .null, "kind": .string(problem.kind.rawValue), "message": .string(problem.message),
                ])
            }
            print(
                JSONValue.object([
                    "valid": .bool(result.isValid), "leaves": .int(result.leaves), "head": .int(result.headSize),
                    "root": .string(Base64URL.encodeStandard(result.rootHash)), "checkpoints_checked": .int(Int64(result.checkpointsChecked)),
                    "first_bad_index": result.firstBadIndex.map(JSONValue.int) ?? .null, "problems": .array(problems),
                ]).serialized)
        } else if result.isValid {
            print(
                "ledger ok: \(result.leaves) leaves, root \(Base64URL.encodeStandard(result.rootHash)), \(result.checkpointsChecked) checkpoints checked"
            )
        } else {
            if let first = result.firstBadIndex { print("ledger damaged: first bad index \(first)") } else { print("ledger damaged") }
            for problem in result.problems { print("  \(problem)") }
        }
        if !result.isValid { throw ExitCode(1) }
    }
}

/// `latch audit prove INDEX [--size N] [--from-size M]`
struct AuditProveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print a record's inclusion proof against a signed checkpoint, as JSON.",
        discussion: """
            Prints {key_name, public_key, checkpoint, inclusion: {index, leaf, leaf_hash, proof}} (base64 throughout; \
            the checkpoint is the signed note), against the latest checkpoint or the one of --size. With --from-size, \
            also the consistency proof from that stored checkpoint: {consistency: {old_checkpoint, proof}}. \
            Tests/Interop/ledger_verify.py reads this as is. Needs no key-encryption key.
            """
    )

    @OptionGroup var server: ServerOptions
    @Argument(help: "The leaf index (0 is the first record).") var index: Int64
    @Option(help: "Prove against the stored checkpoint of this tree size (default: the latest).") var size: Int64?
    @Option(name: .customLong("from-size"), help: "Also prove consistency with the stored checkpoint of this size.") var fromSize: Int64?

    func run() async throws {
        guard self.index >= 0 else { throw ValidationError("INDEX must not be negative") }
        let (index, size, fromSize) = (self.index, self.size, self.fromSize)
        let output: JSONValue = try await self.server.withStore { store in
            guard let stored = try await store.ledgerKeys() else { throw LatchError(.notFound, "the ledger has no keys yet: nothing to prove") }
            let verifier = try LedgerKeyring.verifier(stored)
            let checkpoints = try await store.checkpoints()
            guard let target = size.map({ size in checkpoints.first { $0.size == size } }) ?? checkpoints.last else {
                throw LatchError(.notFound, size.map { "no stored checkpoint of size \($0)" } ?? "no checkpoint signed yet")
            }
            let checkpoint = try verifier.verify(note: target.note)
            guard index < checkpoint.size else {
                throw LatchError(.invalidInput, "index \(index) is not in the checkpoint of size \(checkpoint.size)")
            }
            var leaves: [[UInt8]] = []
            while leaves.count < checkpoint.size {
                let page = try await store.ledgerLeafHashes(from: Int64(leaves.count), limit: LedgerVerifier.pageSize)
                for leaf in page where leaves.count < checkpoint.size {
                    guard leaf.index == Int64(leaves.count) else { throw LatchError(.internalError, "ledger index \(leaves.count) is missing") }
                    leaves.append(leaf.hash)
                }
                if page.isEmpty { throw LatchError(.internalError, "the ledger ends before the checkpoint (\(leaves.count) of \(checkpoint.size))") }
            }
            guard let entry = try await store.ledgerEntries(from: index, limit: 1).first, entry.index == index else {
                throw LatchError(.notFound, "no leaf at index \(index)")
            }
            guard let proof = MerkleTree.inclusionProof(index: Int(index), leaves: leaves),
                MerkleTree.verifyInclusion(
                    leafHash: MerkleTree.leafHash(entry.bytes), index: index, treeSize: checkpoint.size, proof: proof, rootHash: checkpoint.rootHash)
            else {
                throw LatchError(.internalError, "the leaf at index \(index) is not in the checkpoint: run latch audit verify")
            }
            var object: [String: JSONValue] = [
                "key_name": .string(verifier.keyName), "public_key": .string(Base64URL.encodeStandard(verifier.publicKeyDER)),
                "checkpoint": .string(target.note),
                "inclusion": .object([
                    "index": .int(index), "leaf": .string(Base64URL.encodeStandard(entry.bytes)),
                    "leaf_hash": .string(Base64URL.encodeStandard(entry.leafHash)),
                    "proof": .array(proof.map { .string(Base64URL.encodeStandard($0)) }),
                ]),
            ]
            if let fromSize {
                guard let old = checkpoints.first(where: { $0.size == fromSize }) else {
                    throw LatchError(.notFound, "no stored checkpoint of size \(fromSize)")
                }
                guard let consistency = MerkleTree.consistencyProof(oldSize: Int(fromSize), leaves: leaves) else {
                    throw LatchError(.invalidInput, "--from-size \(fromSize) is larger than the checkpoint (\(checkpoint.size))")
                }
                object["consistency"] = .object([
                    "old_checkpoint": .string(old.note), "proof": .array(consistency.map { .string(Base64URL.encodeStandard($0)) }),
                ])
            }
            return .object(object)
        }
        print(output.serialized)
    }
}
