import LatchCore
import LatchIdentity
import Testing

extension IdentityStoreConformance {
    static let keyChecks: [Check] = [
        Check("saved keys list by purpose, oldest first, and round-trip byte for byte") { fixture in
            try await fixture.withStore { store async throws in
                let certificate: [UInt8] = [0x30, 0x82, 0x00, 0x00, 0xFF, 0x00, 0x7F]
                let keys = [
                    V.key("x-new", purpose: .x509Authority, createdAt: 300, certificate: certificate),
                    V.key("x-old", purpose: .x509Authority, state: .active, createdAt: 100, certificate: []),
                    V.key("x-mid-b", purpose: .x509Authority, state: .published, createdAt: 200, certificate: certificate),
                    V.key("x-mid-a", purpose: .x509Authority, state: .retired, createdAt: 200, certificate: nil),
                    V.key("j1", purpose: .jwtSigning, state: .active, createdAt: 50),
                ]
                for key in keys { try await store.saveKey(key) }
                let x509 = try await store.keys(purpose: .x509Authority)
                #expect(x509.map(\.keyID) == ["x-old", "x-mid-a", "x-mid-b", "x-new"])
                #expect(Set(x509) == Set(keys.filter { $0.purpose == .x509Authority }))
                #expect(x509.first { $0.keyID == "x-old" }?.certificateDER == [], "an empty certificate stays empty, not nil")
                #expect(x509.first { $0.keyID == "x-mid-a" }?.certificateDER == nil)
                #expect(try await store.keys(purpose: .jwtSigning) == [keys[4]])
            }
        },
        Check("saveKey replaces the key with the same id") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveKey(V.key("k", state: .prepared))
                var replaced = V.key("k", state: .published, createdAt: 1_000, notAfter: 555)
                replaced.sealedPrivateKey = [9, 9, 9]
                try await store.saveKey(replaced)
                #expect(try await store.keys(purpose: .jwtSigning) == [replaced])
            }
        },
        Check("a key transition is a compare-and-set on the current state") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveKey(V.key("k", state: .prepared))
                #expect(try await store.transitionKey(keyID: "k", from: .published, to: .active) == false, "wrong from-state")
                #expect(try await store.transitionKey(keyID: "k", from: .prepared, to: .published))
                #expect(try await store.transitionKey(keyID: "k", from: .prepared, to: .published) == false, "already moved")
                #expect(try await store.transitionKey(keyID: "missing", from: .prepared, to: .published) == false)
                #expect(try await store.keys(purpose: .jwtSigning).map(\.state) == [.published])
                #expect(try await store.transitionKey(keyID: "k", from: .published, to: .active))
                #expect(try await store.transitionKey(keyID: "k", from: .active, to: .retired))
                #expect(try await store.keys(purpose: .jwtSigning).map(\.state) == [.retired])
            }
        },
        Check("concurrent transitions of one key from two handles: exactly one wins") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    for round in 0..<4 {
                        let id = "rot\(round)"
                        try await first.saveKey(V.key(id, state: .published))
                        let revision = try await second.keysRevision()
                        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                            for task in 0..<16 {
                                let store = task.isMultiple(of: 2) ? first : second
                                // Half want published → active, half published → retired: one of them only.
                                let target: KeyState = task.isMultiple(of: 4) ? .retired : .active
                                group.addTask { try await store.transitionKey(keyID: id, from: .published, to: target) }
                            }
                            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        #expect(wins == 1, "round \(round)")
                        #expect(try await first.keysRevision() == revision + 1, "round \(round): only the winner counts")
                        let state = try await second.keys(purpose: .jwtSigning).first { $0.keyID == id }?.state
                        #expect(state == .active || state == .retired)
                    }
                }
            }
        },
        Check("deleteExpiredKeys removes only retired keys whose notAfter is before the cutoff") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveKey(V.key("retired-old", state: .retired, notAfter: 100))
                try await store.saveKey(V.key("retired-edge", state: .retired, notAfter: 200))
                try await store.saveKey(V.key("retired-new", state: .retired, notAfter: 300))
                try await store.saveKey(V.key("active-old", state: .active, notAfter: 100))
                try await store.saveKey(V.key("published-old", purpose: .x509Authority, state: .published, notAfter: 100))
                #expect(try await store.deleteExpiredKeys(before: 200) == 1)
                #expect(try await store.deleteExpiredKeys(before: 200) == 0)
                #expect(Set(try await store.keys(purpose: .jwtSigning).map(\.keyID)) == ["retired-edge", "retired-new", "active-old"])
                #expect(try await store.keys(purpose: .x509Authority).map(\.keyID) == ["published-old"])
                #expect(try await store.deleteExpiredKeys(before: 1_000) == 2)
            }
        },
        Check("the keys revision grows with every key write that succeeds and only then") { fixture in
            try await fixture.withStore { store async throws in
                var last = try await store.keysRevision()
                func expectGrew(_ grew: Bool, _ what: Comment) async throws {
                    let now = try await store.keysRevision()
                    if grew { #expect(now > last, what) } else { #expect(now == last, what) }
                    last = now
                }
                try await store.saveKey(V.key("k", state: .published, createdAt: 10, notAfter: 100))
                try await expectGrew(true, "after saving a key")
                try await store.saveKey(V.key("p", state: .prepared))
                try await expectGrew(true, "after saving a prepared key")
                try await store.saveKey(V.key("p", state: .prepared))
                try await expectGrew(true, "after saving the same key again")
                _ = try await store.keys(purpose: .jwtSigning)
                _ = try await store.keys(purpose: .x509Authority)
                try await expectGrew(false, "after reads")
                try? await store.saveKey(V.key(""))
                try await expectGrew(false, "after a rejected save")
                #expect(try await store.transitionKey(keyID: "k", from: .prepared, to: .active) == false)
                #expect(try await store.transitionKey(keyID: "missing", from: .prepared, to: .published) == false)
                try await expectGrew(false, "after failed compare-and-set transitions")
                #expect(try await store.transitionKey(keyID: "k", from: .published, to: .retired))
                try await expectGrew(true, "after a transition")
                #expect(try await store.deleteExpiredKeys(before: 100) == 0)
                try await expectGrew(false, "after a delete that removed nothing")
                try await store.createEntry(try V.entry("r1", selectors: ["unix:uid:1"]))
                try await store.createJoinToken(V.token(1))
                try await expectGrew(false, "after entry and token writes")
                #expect(try await store.deleteExpiredKeys(before: 101) == 1)
                try await expectGrew(true, "after a delete that removed a key")
            }
        },
        Check("another handle on the same storage sees key changes and the new keys revision") { fixture in
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    let before = try await reader.keysRevision()
                    try await writer.saveKey(V.key("h", state: .published))
                    #expect(try await reader.keysRevision() > before)
                    #expect(try await reader.keys(purpose: .jwtSigning).map(\.keyID) == ["h"])
                    let afterSave = try await writer.keysRevision()
                    #expect(try await reader.keysRevision() == afterSave, "both handles read one counter")
                    #expect(try await reader.transitionKey(keyID: "h", from: .published, to: .active))
                    #expect(try await writer.keysRevision() > afterSave)
                    #expect(try await writer.keys(purpose: .jwtSigning).map(\.state) == [.active])
                }
            }
        },
        Check("malformed keys are rejected as invalid input") { fixture in
            try await fixture.withStore { store async throws in
                var noSecret = V.key("k")
                noSecret.sealedPrivateKey = []
                await expectLatchError(.invalidInput, "empty key id") { try await store.saveKey(V.key("")) }
                await expectLatchError(.invalidInput, "key id with NUL") { try await store.saveKey(V.key("a\u{0}")) }
                await expectLatchError(.invalidInput, "empty sealed key") { try await store.saveKey(noSecret) }
                #expect(try await store.keys(purpose: .jwtSigning).isEmpty)
            }
        },
    ]
}
