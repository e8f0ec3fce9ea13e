import Crypto
import LatchAudit
import LatchCore
import LatchIdentity
import LatchTesting
import Testing

@Suite("Checkpoint")
struct CheckpointTests {
    static let name = "latch.test/ledger"
    static var signer: CheckpointSigner {
        get throws { try CheckpointSigner(keyName: name, privateKey: TestKeys.p256("ledger checkpoints")) }
    }

    static let leaves: [[UInt8]] = (0..<23).map { MerkleTree.leafHash(Array("record \($0)".utf8)) }

    static func checkpoint(_ size: Int) -> Checkpoint {
        Checkpoint(origin: Self.name, size: Int64(size), rootHash: MerkleTree.rootHash(Self.leaves[0..<size]))
    }

    @Test("a signed checkpoint is the C2SP note layout and verifies with its key")
    func signAndVerify() throws {
        let signer = try Self.signer
        let note = try signer.sign(Self.checkpoint(23))
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6)
        #expect(lines[0] == Substring(Self.name) && lines[1] == "23" && lines[3] == "" && lines[5] == "")
        #expect(lines[4].hasPrefix("\u{2014} \(Self.name) "))
        let checkpoint = try signer.verifier.verify(note: note)
        #expect(checkpoint == Self.checkpoint(23))
        #expect(signer.verifier.keyID == Array(SHA256.hash(data: signer.verifier.publicKeyDER).prefix(4)))
        #expect(signer.verifier.verifierKey.hasPrefix("\(Self.name)+\(hexString(signer.verifier.keyID))+"))
    }

    @Test("a changed size, root, origin or signature fails; another key's signature is ignored")
    func tampering() throws {
        let signer = try Self.signer
        let note = try signer.sign(Self.checkpoint(23))
        for tampered in [
            note.replacingFirst("\n23\n", with: "\n22\n"), note.replacingFirst(Self.name + "\n", with: "latch.test/other\n"),
        ] {
            #expect(throws: LatchError.self) { try signer.verifier.verify(note: tampered) }
        }
        var bytes = Array(note.utf8)
        bytes[bytes.count - 10] = bytes[bytes.count - 10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: LatchError.self) { try signer.verifier.verify(note: String(decoding: bytes, as: UTF8.self)) }
        let other = try CheckpointSigner(keyName: Self.name, privateKey: P256.Signing.PrivateKey())
        #expect(throws: LatchError.self) { try signer.verifier.verify(note: try other.sign(Self.checkpoint(23))) }
        // A note signed by both: the known key's signature decides.
        let both = try other.sign(Self.checkpoint(23)) + String(try signer.sign(Self.checkpoint(23)).split(separator: "\n").last ?? "") + "\n"
        #expect(try signer.verifier.verify(note: both) == Self.checkpoint(23))
    }

    @Test("the independent Python verifier accepts Latch's checkpoints, inclusion and consistency proofs, and rejects altered ones")
    func pythonVerifier() throws {
        let signer = try Self.signer
        for (oldSize, newSize) in [(1, 1), (3, 8), (8, 23), (7, 23), (0, 5), (22, 23)] {
            let leaves = Array(Self.leaves[0..<newSize])
            for index in Set([0, newSize / 2, newSize - 1]) {
                let proof = try #require(MerkleTree.inclusionProof(index: index, leaves: leaves))
                let consistency = try #require(MerkleTree.consistencyProof(oldSize: oldSize, leaves: leaves))
                var request: [String: JSONValue] = [
                    "key_name": .string(Self.name), "public_key": .string(Base64URL.encodeStandard(signer.verifier.publicKeyDER)),
                    "checkpoint": .string(try signer.sign(Self.checkpoint(newSize))),
                    "inclusion": .object([
                        "index": .int(Int64(index)), "leaf": .string(Base64URL.encodeStandard(Array("record \(index)".utf8))),
                        "proof": .array(proof.map { .string(Base64URL.encodeStandard($0)) }),
                    ]),
                    "consistency": .object([
                        "old_checkpoint": .string(try signer.sign(Self.checkpoint(oldSize))),
                        "proof": .array(consistency.map { .string(Base64URL.encodeStandard($0)) }),
                    ]),
                ]
                let run = try InteropScripts.run("ledger_verify.py", input: JSONValue.object(request).serializedBytes)
                let answer = try #require(JSONValue(parsing: run.output))
                #expect(run.status == 0, "\(oldSize) → \(newSize), leaf \(index): \(answer)")
                #expect(answer["inclusion"] == .bool(true) && answer["consistency"] == .bool(true))
                #expect(answer["size"] == .int(Int64(newSize)))

                // Another leaf at that index fails.
                request["inclusion"] = .object([
                    "index": .int(Int64(index)), "leaf": .string(Base64URL.encodeStandard(Array("record x".utf8))),
                    "proof": .array(proof.map { .string(Base64URL.encodeStandard($0)) }),
                ])
                let bad = try InteropScripts.run("ledger_verify.py", input: JSONValue.object(request).serializedBytes)
                #expect(bad.status == 1)
            }
        }
        // A checkpoint signed by another key is refused.
        let other = try CheckpointSigner(keyName: Self.name, privateKey: P256.Signing.PrivateKey())
        let request = JSONValue.object([
            "key_name": .string(Self.name), "public_key": .string(Base64URL.encodeStandard(signer.verifier.publicKeyDER)),
            "checkpoint": .string(try other.sign(Self.checkpoint(5))),
        ])
        let refused = try InteropScripts.run("ledger_verify.py", input: request.serializedBytes)
        #expect(refused.status == 1)
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        let bytes = Array(self.utf8)
        let needle = Array(target.utf8)
        guard needle.count <= bytes.count else { return self }
        for start in 0...(bytes.count - needle.count) where Array(bytes[start..<start + needle.count]) == needle {
            return String(decoding: bytes[..<start] + Array(replacement.utf8) + bytes[(start + needle.count)...], as: UTF8.self)
        }
        return self
    }
}
