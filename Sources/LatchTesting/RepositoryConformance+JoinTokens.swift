import LatchCore
import LatchIdentity
import Testing

extension IdentityStoreConformance {
    static let joinTokenChecks: [Check] = [
        Check("a join token is consumed once") { fixture in
            try await fixture.withStore { store async throws in
                let token = V.token(1)
                try await store.createJoinToken(token)
                try await store.createJoinToken(V.token(2))
                #expect(try await store.consumeJoinToken(hash: token.tokenHash, now: 5_000) == token)
                #expect(try await store.consumeJoinToken(hash: token.tokenHash, now: 5_000) == nil)
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(3), now: 5_000) == nil, "never created")
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(2), now: 5_000) == V.token(2), "others untouched")
            }
        },
        Check("N concurrent consumers on two handles: exactly one gets the token") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    for round in UInt8(0)..<4 {
                        let token = V.token(100 + round)
                        try await first.createJoinToken(token)
                        let winners = try await withThrowingTaskGroup(of: StoredJoinToken?.self) { group in
                            for task in 0..<32 {
                                let store = task.isMultiple(of: 2) ? first : second
                                group.addTask { try await store.consumeJoinToken(hash: token.tokenHash, now: 2_000) }
                            }
                            return try await group.reduce(into: [StoredJoinToken]()) { if let won = $1 { $0.append(won) } }
                        }
                        #expect(winners == [token], "round \(round)")
                    }
                }
            }
        },
        Check("an expired join token is not consumed; expiry is exclusive at expiresAt") { fixture in
            try await fixture.withStore { store async throws in
                let token = V.token(7, expiresAt: 10_000)
                try await store.createJoinToken(token)
                #expect(try await store.consumeJoinToken(hash: token.tokenHash, now: 10_000) == nil, "now == expiresAt is expired")
                #expect(try await store.consumeJoinToken(hash: token.tokenHash, now: 10_001) == nil)
                #expect(try await store.consumeJoinToken(hash: token.tokenHash, now: 9_999) == token, "still there and valid just before")
            }
        },
        Check("deleteExpiredJoinTokens removes exactly the expired tokens") { fixture in
            try await fixture.withStore { store async throws in
                try await store.createJoinToken(V.token(1, expiresAt: 100))
                try await store.createJoinToken(V.token(2, expiresAt: 200))
                try await store.createJoinToken(V.token(3, expiresAt: 201))
                #expect(try await store.deleteExpiredJoinTokens(now: 200) == 2)
                #expect(try await store.deleteExpiredJoinTokens(now: 200) == 0)
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(3), now: 150) == V.token(3, expiresAt: 201))
            }
        },
        Check("a duplicate join token hash is a conflict; malformed tokens are invalid input") { fixture in
            try await fixture.withStore { store async throws in
                try await store.createJoinToken(V.token(1))
                var again = V.token(1)
                again.selectorValue = "join_token:other"
                await expectLatchError(.conflict, "same hash twice") { try await store.createJoinToken(again) }
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(1), now: 0) == V.token(1), "the first is kept")

                var shortHash = V.token(2)
                shortHash.tokenHash = [1, 2, 3]
                var emptySelector = V.token(3)
                emptySelector.selectorValue = ""
                var nulSelector = V.token(4)
                nulSelector.selectorValue = "join_token:\u{0}"
                await expectLatchError(.invalidInput, "3-byte hash") { try await store.createJoinToken(shortHash) }
                await expectLatchError(.invalidInput, "empty selector value") { try await store.createJoinToken(emptySelector) }
                await expectLatchError(.invalidInput, "selector value with NUL") { try await store.createJoinToken(nulSelector) }
                await expectLatchError(.invalidInput, "consume with an empty hash") {
                    _ = try await store.consumeJoinToken(hash: [], now: 0)
                }
                #expect(try await store.deleteExpiredJoinTokens(now: Int64.max) == 0, "nothing else was stored")
            }
        },
    ]

    static let durabilityChecks: [Check] = [
        Check("acknowledged writes survive closing and reopening the store") { fixture in
            let entry = try V.entry("durable", selectors: ["unix:uid:1000"], attributes: ["team": .string("ops")])
            let key = V.key("kd", purpose: .x509Authority, state: .active, certificate: [1, 2, 3])
            let (revision, keysRevision) = try await fixture.withStore { store async throws in
                try await store.createEntry(entry)
                try await store.createEntry(try V.entry("gone", selectors: ["unix:uid:1"]))
                #expect(try await store.deleteEntry(id: "gone"))
                try await store.saveKey(key)
                try await store.createJoinToken(V.token(9))
                try await store.createJoinToken(V.token(10))
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(10), now: 0) != nil)
                return (try await store.entriesRevision(), try await store.keysRevision())
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.listEntries() == [entry])
                #expect(try await store.entriesRevision() == revision)
                #expect(try await store.keysRevision() == keysRevision)
                #expect(keysRevision > 0)
                #expect(try await store.keys(purpose: .x509Authority) == [key])
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(10), now: 0) == nil, "consumed stays consumed")
                #expect(try await store.consumeJoinToken(hash: V.tokenHash(9), now: 0) == V.token(9))
            }
        },
        Check("reopening an existing store applies no migration twice and keeps working") { fixture in
            for round in 0..<3 {
                try await fixture.withStore { store async throws in
                    try await store.createEntry(try V.entry("m\(round)", selectors: ["unix:uid:\(round)"], createdAt: Int64(round)))
                    #expect(try await store.listEntries().map(\.id) == (0...round).map { "m\($0)" })
                }
            }
        },
    ]
}
