import LatchTesting
import Testing

@Suite("PostgresIdentityStore conformance", .enabled(if: PostgresTestEnvironment.shouldRun, PostgresTestEnvironment.skipNote))
struct PostgresIdentityStoreConformanceTests {
    @Test("conforms to the identity store contract", arguments: IdentityStoreConformance.checks)
    func conforms(_ check: IdentityStoreConformance.Check) async throws {
        let fixture = PostgresFixture()
        do {
            try await check.run(fixture)
        } catch {
            await fixture.remove()
            throw error
        }
        await fixture.remove()
    }
}
