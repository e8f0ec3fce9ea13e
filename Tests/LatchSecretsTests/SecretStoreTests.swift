import LatchCore
import LatchIdentity
import LatchSecrets
import LatchTesting
import Testing

@Suite("SecretStore")
struct SecretStoreTests {
    @Test("set seals under the KEK and name; the repository holds no plaintext; the value opens again")
    func setAndOpen() async throws {
        let repository = InMemoryIdentityStore()
        let clock = TestWallClock()
        let store = SecretStore(repository: repository, kek: TestKeys.kek, clock: clock)
        let name = try SecretName(parsing: "crm_token")
        let value = Array("sk-live-0123456789abcdef".utf8)
        #expect(try await store.set(name, to: Redacted(value)))
        let stored = try #require(try await repository.secret(named: name))
        #expect(!stored.sealedValue.contains(subsequence: value))
        #expect(stored.createdAt == clock.now().milliseconds)
        #expect(try await store.secretValue(named: name)?.unredacted == value)
        #expect(try await store.secretValue(named: SecretName(parsing: "other")) == nil)

        clock.advance(seconds: 60)
        #expect(try await store.set(name, to: Redacted(Array("rotated".utf8))) == false, "replaced, not created")
        let replaced = try #require(try await repository.secret(named: name))
        #expect(replaced.createdAt == stored.createdAt)
        #expect(replaced.updatedAt == stored.createdAt + 60_000)
        #expect(try await store.secretValue(named: name)?.unredacted == Array("rotated".utf8))
    }

    @Test("templates render through the store: current values, fail closed once a secret is deleted")
    func templates() async throws {
        let repository = InMemoryIdentityStore()
        let store = SecretStore(repository: repository, kek: TestKeys.kek)
        let name = try SecretName(parsing: "crm_token")
        let template = try SecretTemplate(parsing: "Bearer ${secret:crm_token}")
        try await store.set(name, to: Redacted(Array("one".utf8)))
        #expect(try await template.render(using: store).unredacted == "Bearer one")
        try await store.set(name, to: Redacted(Array("two".utf8)))
        #expect(try await template.render(using: store).unredacted == "Bearer two")
        #expect(try await repository.deleteSecret(named: name))
        await #expect(throws: LatchError(.notFound, "")) { try await template.render(using: store) }
    }

    @Test("a store with another KEK cannot open what was set, and a row moved to another name does not open")
    func wrongKEKAndMovedRow() async throws {
        let repository = InMemoryIdentityStore()
        let name = try SecretName(parsing: "crm_token")
        try await SecretStore(repository: repository, kek: TestKeys.kek).set(name, to: Redacted(Array("value".utf8)))
        let other = SecretStore(repository: repository, kek: .generate())
        await #expect(throws: LatchError(.unsealFailed, "")) { try await other.secretValue(named: name) }
        await #expect(throws: LatchError(.unsealFailed, "")) {
            try await SecretTemplate(parsing: "${secret:crm_token}").render(using: other)
        }

        var moved = try #require(try await repository.secret(named: name))
        moved.name = try SecretName(parsing: "admin_token")
        try await repository.saveSecret(moved)
        await #expect(throws: LatchError(.unsealFailed, "")) {
            try await SecretStore(repository: repository, kek: TestKeys.kek).secretValue(named: moved.name)
        }
    }

    @Test("values over 64 KiB or empty are refused before anything is stored")
    func limits() async throws {
        let repository = InMemoryIdentityStore()
        let store = SecretStore(repository: repository, kek: TestKeys.kek)
        let name = try SecretName(parsing: "big")
        await #expect(throws: LatchError(.invalidInput, "")) {
            try await store.set(name, to: Redacted(Array(repeating: 1, count: SecretSealer.maximumValueBytes + 1)))
        }
        await #expect(throws: LatchError(.invalidInput, "")) { try await store.set(name, to: Redacted([])) }
        #expect(try await repository.listSecrets().isEmpty)
        #expect(try await store.set(name, to: Redacted(Array(repeating: 1, count: SecretSealer.maximumValueBytes))))
        #expect(try await store.secretValue(named: name)?.unredacted.count == SecretSealer.maximumValueBytes)
    }
}
