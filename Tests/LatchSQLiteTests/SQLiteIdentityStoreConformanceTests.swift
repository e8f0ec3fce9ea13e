import LatchTesting
import Testing

@Suite("SQLiteIdentityStore conformance")
struct SQLiteIdentityStoreConformanceTests {
    @Test("conforms to the identity store contract", arguments: IdentityStoreConformance.checks)
    func conforms(_ check: IdentityStoreConformance.Check) async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        try await check.run(fixture)
    }
}
