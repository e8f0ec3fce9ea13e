import Crypto
public import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import Testing

extension TestKeys {
    /// A fixed ledger MAC key.
    public static let ledgerKey: LedgerKey = {
        guard let key = try? LedgerKey(bytes: (0..<32).map { UInt8($0) &* 7 &+ 3 }) else { fatalError("32 bytes make a ledger key") }
        return key
    }()

    /// A fixed checkpoint signer named `example.org/latch/ledger`.
    public static let checkpointSigner: CheckpointSigner = {
        guard let signer = try? CheckpointSigner(keyName: "example.org/latch/ledger", privateKey: TestKeys.p256("ledger checkpoint key"))
        else { fatalError("a fixed P-256 key makes a signer") }
        return signer
    }()
}

extension IdentityStoreConformance {
    static let ledgerChecks: [Check] = [
        Check("every saved record becomes the next ledger leaf: its canonical JSON, hash and MAC, indices contiguous across batches and handles") {
            fixture in
            let first = [V.fullDecisionRecord("l0"), V.decisionRecord("l1", tool: "a\u{0}b")]
            let second = (2..<7).map { V.decisionRecord("l\($0)", time: V.recordTime + Int64($0)) }
            try await fixture.withStore { store async throws in
                #expect(try await store.ledgerSize() == 0)
                #expect(try await store.ledgerEntries(from: 0, limit: 10).isEmpty)
                try await store.saveDecisionRecords(first, ledgerKey: TestKeys.ledgerKey)
                try await fixture.withStore { other async throws in
                    try await other.saveDecisionRecords(second, ledgerKey: TestKeys.ledgerKey)
                }
                let entries = try await store.ledgerEntries(from: 0, limit: 100)
                let records = first + second
                #expect(entries.map(\.index) == Array(0..<7))
                for (entry, record) in zip(entries, records) {
                    #expect(entry.bytes == record.json.serializedBytes, "leaf \(entry.index) is the record's canonical JSON")
                    #expect(entry.leafHash == MerkleTree.leafHash(entry.bytes))
                    #expect(TestKeys.ledgerKey.isValid(mac: entry.mac, index: entry.index, leafHash: entry.leafHash))
                }
                #expect(try await store.ledgerSize() == 7)
                #expect(try await store.ledgerEntries(from: 5, limit: 1).map(\.index) == [5])
                let hashes = try await store.ledgerLeafHashes(from: 3, limit: 100)
                #expect(hashes.map(\.index) == [3, 4, 5, 6] && hashes.map(\.hash) == entries[3...].map(\.leafHash))
            }
        },
        Check("a rejected batch takes no ledger index") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveDecisionRecords([V.decisionRecord("a")], ledgerKey: TestKeys.ledgerKey)
                await expectLatchError(.conflict, "a stored id") {
                    try await store.saveDecisionRecords([V.decisionRecord("b"), V.decisionRecord("a")], ledgerKey: TestKeys.ledgerKey)
                }
                try await store.saveDecisionRecords([V.decisionRecord("c")], ledgerKey: TestKeys.ledgerKey)
                #expect(try await store.ledgerEntries(from: 0, limit: 10).map(\.index) == [0, 1])
                #expect(try await store.ledgerSize() == 2)
            }
        },
        Check("concurrent batches from several handles get every index exactly once") { fixture in
            // Created (and migrated) first: the check is about appends, not about opening.
            try await fixture.withStore { store async throws in #expect(try await store.ledgerSize() == 0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        try await fixture.withStore { store async throws in
                            for batch in 0..<5 {
                                let records = (0..<7).map { V.decisionRecord("w\(writer)-b\(batch)-\($0)") }
                                try await store.saveDecisionRecords(records, ledgerKey: TestKeys.ledgerKey)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.ledgerEntries(from: 0, limit: 1_000).map(\.index) == Array(0..<140))
                #expect(try await store.ledgerSize() == 140)
            }
        },
        Check("checkpoints are kept once per size, listed smallest first; ledger keys are created once") { fixture in
            try await fixture.withStore { store async throws in
                #expect(try await store.latestCheckpoint() == nil)
                let a = StoredCheckpoint(size: 3, rootHash: Array(repeating: 1, count: 32), note: "note 3\n", createdAt: 10)
                let b = StoredCheckpoint(size: 12, rootHash: Array(repeating: 2, count: 32), note: "note 12\n", createdAt: 20)
                try await store.saveCheckpoint(b)
                try await store.saveCheckpoint(a)
                var again = a
                again.note = "other\n"
                try await store.saveCheckpoint(again)
                #expect(try await store.checkpoints() == [a, b])
                #expect(try await store.latestCheckpoint() == b)

                #expect(try await store.ledgerKeys() == nil)
                let keys = StoredLedgerKeys(keyName: "k", sealedMACKey: [1, 2], sealedSigningKey: [3], publicKey: [4, 5], createdAt: 7)
                let other = StoredLedgerKeys(keyName: "other", sealedMACKey: [1, 2], sealedSigningKey: [3], publicKey: [4, 5], createdAt: 7)
                #expect(try await store.saveLedgerKeys(keys) == keys)
                try await fixture.withStore { second async throws in
                    #expect(try await second.saveLedgerKeys(other) == keys, "the first keys stay")
                }
                #expect(try await store.ledgerKeys() == keys)
            }
        },
        Check("the verifier passes a store's ledger and its signed checkpoints, and names a checkpoint past the end") { fixture in
            try await fixture.withStore { store async throws in
                let checkpointer = LedgerCheckpointer(repository: store, signer: TestKeys.checkpointSigner, clock: TestWallClock())
                let verifier = LedgerVerifier(repository: store, key: TestKeys.ledgerKey, checkpointVerifier: TestKeys.checkpointSigner.verifier)
                #expect(try await verifier.verify().isValid, "an empty ledger")
                #expect(try await checkpointer.checkpoint()?.size == 0)
                #expect(try await checkpointer.checkpoint() == nil, "nothing new")
                try await store.saveDecisionRecords((0..<5).map { V.decisionRecord("v\($0)") }, ledgerKey: TestKeys.ledgerKey)
                let five = try #require(try await checkpointer.checkpoint())
                try await store.saveDecisionRecords((5..<9).map { V.decisionRecord("v\($0)") }, ledgerKey: TestKeys.ledgerKey)
                let nine = try #require(try await checkpointer.checkpoint())
                #expect(five.size == 5 && nine.size == 9)
                let result = try await verifier.verify(trusted: five.note)
                #expect(result.isValid, "\(result.problems)")
                #expect(result.leaves == 9 && result.checkpointsChecked == 4)
                #expect(try TestKeys.checkpointSigner.verifier.verify(note: nine.note).rootHash == result.rootHash)

                // A checkpoint signed for a larger tree than stored: the missing index is named.
                let ahead = Checkpoint(origin: TestKeys.checkpointSigner.keyName, size: 12, rootHash: result.rootHash)
                let late = try await verifier.verify(trusted: try TestKeys.checkpointSigner.sign(ahead))
                #expect(late.firstBadIndex == 9 && late.problems.first?.kind == .missing)
            }
        },
    ]
}
