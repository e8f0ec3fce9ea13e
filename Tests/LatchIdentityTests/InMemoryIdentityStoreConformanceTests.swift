import LatchGrants
import LatchIdentity
import LatchSecrets
import LatchTesting
import Testing

/// One in-memory store per fixture; every handle is the same object ("restart" keeps the data).
struct InMemoryFixture: IdentityStoreFixture {
    let store = InMemoryIdentityStore()
    func withStore<Result: Sendable>(_ body: @Sendable (any ConformanceStore) async throws -> Result) async throws -> Result {
        try await body(self.store)
    }
}

@Suite("InMemoryIdentityStore conformance")
struct InMemoryIdentityStoreConformanceTests {
    @Test("the test double meets the same contract as the real stores", arguments: IdentityStoreConformance.checks)
    func conforms(_ check: IdentityStoreConformance.Check) async throws {
        try await check.run(InMemoryFixture())
    }
}
