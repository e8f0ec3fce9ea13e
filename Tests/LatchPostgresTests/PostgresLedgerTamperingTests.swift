import LatchAudit
import LatchCore
import LatchGateway
import LatchStoreSupport
import LatchTesting
import PostgresNIO
import Testing

@testable import LatchPostgres

@Suite("PostgreSQL ledger tampering", .enabled(if: PostgresTestEnvironment.shouldRun, PostgresTestEnvironment.skipNote))
struct PostgresLedgerTamperingTests {
    @Test("verify names the exact first bad index of every kind of tampering with the rows", arguments: LedgerTampering.all)
    func tampering(_ tampering: LedgerTampering) async throws {
        let fixture = PostgresFixture()
        do {
            try await Self.check(tampering, fixture)
        } catch {
            await fixture.remove()
            throw error
        }
        await fixture.remove()
    }

    static func check(_ tampering: LedgerTampering, _ fixture: PostgresFixture) async throws {
        try await fixture.withStore { store async throws in
            let postgres = try #require(store as? PostgresIdentityStore)
            let checkpointer = LedgerCheckpointer(repository: store, signer: TestKeys.checkpointSigner, clock: TestWallClock())
            for batch in [0..<4, 4..<LedgerTampering.leaves] {
                try await store.saveDecisionRecords(
                    batch.map { ConformanceValues.decisionRecord("r\($0)", time: ConformanceValues.recordTime + Int64($0)) },
                    ledgerKey: TestKeys.ledgerKey)
            }
            try #require(try await checkpointer.checkpoint()?.size == Int64(LedgerTampering.leaves))
            let verifier = LedgerVerifier(repository: store, key: TestKeys.ledgerKey, checkpointVerifier: TestKeys.checkpointSigner.verifier)
            let before = try await DecisionRecordIndexCheck.adding(to: try await verifier.verify(), from: postgres)
            try #require(before.isValid, "\(before.problems)")

            for statement in tampering.statements(.postgres) {
                try await postgres.client.query(PostgresQuery(unsafeSQL: statement), logger: PostgresTestEnvironment.logger)
            }
            let after = try await DecisionRecordIndexCheck.adding(to: try await verifier.verify(), from: postgres)
            #expect(!after.isValid)
            #expect(after.firstBadIndex == tampering.firstBadIndex, "\(after.problems)")
            #expect(after.problems.first?.kind == tampering.kind, "\(after.problems)")
        }
    }
}
