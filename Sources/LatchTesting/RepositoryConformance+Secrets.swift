import LatchCore
import LatchGrants
import LatchIdentity
import LatchSecrets
import Testing

extension IdentityStoreConformance {
    static let secretChecks: [Check] = [
        Check("saved secrets round-trip byte for byte and list by name (bytewise) with their times") { fixture in
            try await fixture.withStore { store async throws in
                let longName = String(repeating: "n", count: SecretName.maximumLength)
                let names = ["z", "a.key", "A_key", "-lead", "_under", "0num", "a-key", ".dot", longName]
                var saved: [StoredSecret] = []
                for (index, name) in names.enumerated() {
                    let secret = try V.secret(name, seed: UInt8(index), createdAt: 1_000 + Int64(index), updatedAt: 2_000 + Int64(index))
                    #expect(try await store.saveSecret(secret), "\(name) is new")
                    saved.append(secret)
                }
                var smallest = try V.secret("smallest", length: SecretSealer.overheadBytes + 1)
                smallest.sealedValue[0] = 0
                let largest = try V.secret("largest", seed: 0xFF, length: StoredSecret.maximumSealedBytes)
                try await store.saveSecret(smallest)
                try await store.saveSecret(largest)
                saved += [smallest, largest]

                for secret in saved {
                    #expect(try await store.secret(named: secret.name) == secret, "\(secret.name)")
                }
                #expect(try await store.secret(named: SecretName(parsing: "missing")) == nil)
                #expect(try await store.secret(named: SecretName(parsing: "Z")) == nil, "names are case-sensitive")
                let listed = try await store.listSecrets()
                let expectedOrder = ["-lead", ".dot", "0num", "A_key", "_under", "a-key", "a.key", "largest", longName, "smallest", "z"]
                #expect(listed.map(\.name.text) == expectedOrder)
                #expect(Set(listed) == Set(saved.map(\.metadata)))
            }
        },
        Check("saveSecret replaces the value and updatedAt of a name and keeps its createdAt") { fixture in
            try await fixture.withStore { store async throws in
                let first = try V.secret("crm_token", seed: 1, createdAt: 1_000)
                #expect(try await store.saveSecret(first))
                #expect(try await store.saveSecret(try V.secret("other", seed: 3, createdAt: 1_500)))
                let second = try V.secret("crm_token", seed: 2, createdAt: 5_000, updatedAt: 5_000, length: 60)
                #expect(try await store.saveSecret(second) == false, "the name existed")
                let read = try #require(try await store.secret(named: first.name))
                #expect(read.sealedValue == second.sealedValue)
                #expect(read.createdAt == 1_000, "createdAt is the first save's")
                #expect(read.updatedAt == 5_000)
                #expect(try await store.listSecrets().map(\.name.text) == ["crm_token", "other"])
                #expect(try await store.secret(named: SecretName(parsing: "other"))?.sealedValue == V.secret("other", seed: 3).sealedValue)
            }
        },
        Check("deleteSecret removes one secret and says whether it existed") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveSecret(try V.secret("a"))
                try await store.saveSecret(try V.secret("b"))
                #expect(try await store.deleteSecret(named: SecretName(parsing: "a")))
                #expect(try await store.deleteSecret(named: SecretName(parsing: "a")) == false, "already deleted")
                #expect(try await store.deleteSecret(named: SecretName(parsing: "never")) == false)
                #expect(try await store.secret(named: SecretName(parsing: "a")) == nil)
                #expect(try await store.listSecrets().map(\.name.text) == ["b"])
                #expect(try await store.saveSecret(try V.secret("a", createdAt: 9_000)), "a deleted name is new again")
                #expect(try await store.secret(named: SecretName(parsing: "a"))?.createdAt == 9_000)
            }
        },
        Check("the secrets revision grows with every secret write that succeeds and only then") { fixture in
            try await fixture.withStore { store async throws in
                var last = try await store.secretsRevision()
                func expectGrew(_ grew: Bool, _ what: Comment) async throws {
                    let now = try await store.secretsRevision()
                    if grew { #expect(now > last, what) } else { #expect(now == last, what) }
                    last = now
                }
                let entries = try await store.entriesRevision()
                let keys = try await store.keysRevision()
                let revocations = try await store.revocationsRevision()
                try await store.saveSecret(try V.secret("s"))
                try await expectGrew(true, "after saving a secret")
                try await store.saveSecret(try V.secret("s", seed: 2))
                try await expectGrew(true, "after replacing it")
                _ = try await store.secret(named: SecretName(parsing: "s"))
                _ = try await store.listSecrets()
                try await expectGrew(false, "after reads")
                _ = try? await store.saveSecret(try V.secret("bad", length: 3))
                try await expectGrew(false, "after a rejected save")
                #expect(try await store.deleteSecret(named: SecretName(parsing: "missing")) == false)
                try await expectGrew(false, "after deleting nothing")
                try await store.createEntry(try V.entry("r1", selectors: ["unix:uid:1"]))
                try await store.saveKey(V.key("k"))
                try await store.createJoinToken(V.token(1))
                try await expectGrew(false, "after entry, key and token writes")
                #expect(try await store.deleteSecret(named: SecretName(parsing: "s")))
                try await expectGrew(true, "after deleting a secret")
                #expect(try await store.entriesRevision() == entries + 1, "only the entry write moved the entries revision")
                #expect(try await store.keysRevision() == keys + 1, "only the key write moved the keys revision")
                #expect(try await store.revocationsRevision() == revocations, "secret writes do not move the revocations revision")
            }
        },
        Check("another handle on the same storage sees secret changes and the same revision, also after reopening") { fixture in
            let secret = try V.secret("shared", seed: 7)
            let revision = try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    let before = try await reader.secretsRevision()
                    try await writer.saveSecret(secret)
                    #expect(try await reader.secretsRevision() > before)
                    #expect(try await reader.secret(named: secret.name) == secret)
                    #expect(try await reader.secretsRevision() == writer.secretsRevision(), "both handles read one counter")
                    try await reader.saveSecret(try V.secret("gone"))
                    #expect(try await writer.deleteSecret(named: SecretName(parsing: "gone")))
                    #expect(try await reader.listSecrets().map(\.name) == [secret.name])
                    return try await writer.secretsRevision()
                }
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.secret(named: secret.name) == secret, "durable across a reopen")
                #expect(try await store.secretsRevision() == revision, "the counter does not go back")
            }
        },
        Check("concurrent saves of one new name from two handles: exactly one creates it") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    for round in 0..<3 {
                        let name = "race\(round)"
                        let revision = try await first.secretsRevision()
                        let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                            for task in 0..<12 {
                                let store = task.isMultiple(of: 2) ? first : second
                                let secret = try V.secret(name, seed: UInt8(task), createdAt: 1_000 + Int64(task))
                                group.addTask { try await store.saveSecret(secret) }
                            }
                            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        #expect(created == 1, "round \(round)")
                        #expect(try await second.secretsRevision() == revision + 12, "round \(round): every save counts")
                        let stored = try #require(try await first.secret(named: SecretName(parsing: name)))
                        #expect((1_000..<1_012).contains(stored.createdAt))
                        #expect(try await first.listSecrets().filter { $0.name.text == name }.count == 1)
                    }
                }
            }
        },
        Check("malformed sealed values are rejected as invalid input") { fixture in
            try await fixture.withStore { store async throws in
                let revision = try await store.secretsRevision()
                await expectLatchError(.invalidInput, "empty sealed value") { try await store.saveSecret(try V.secret("a", length: 0)) }
                await expectLatchError(.invalidInput, "shorter than nonce and tag plus one byte") {
                    try await store.saveSecret(try V.secret("a", length: SecretSealer.overheadBytes))
                }
                await expectLatchError(.invalidInput, "longer than the largest sealed value") {
                    try await store.saveSecret(try V.secret("a", length: StoredSecret.maximumSealedBytes + 1))
                }
                #expect(try await store.listSecrets().isEmpty)
                #expect(try await store.secretsRevision() == revision)
            }
        },
    ]
}
