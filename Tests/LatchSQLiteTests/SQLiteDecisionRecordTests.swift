import GRDB
import LatchCore
import LatchGateway
import LatchStoreSupport
import LatchTesting
import Testing

@testable import LatchSQLite

@Suite("SQLite decision records")
struct SQLiteDecisionRecordTests {
    @Test("64 concurrent records through a StoreDecisionRecorder are all stored and read back from another handle")
    func recorderOverSQLite() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let records = (0..<64).map { index in
            var record = ConformanceValues.fullDecisionRecord("d\(index)", task: "task-\(index % 4)", time: 1_000 + Int64(index))
            record.allowed = index.isMultiple(of: 3)
            return record
        }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        let recorder = StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for record in records { group.addTask { try await recorder.record(record) } }
            try await group.waitForAll()
        }
        try store.close()
        try await fixture.withStore { reopened async throws in
            let stored = try await reopened.decisionRecords(taskID: nil, limit: 100)
            #expect(stored == records.reversed(), "newest first, every field intact")
            #expect(try await reopened.decisionRecords(taskID: "task-1", limit: 100).count == 16)
        }
    }

    @Test("when the store cannot write, record throws and nothing is acknowledged")
    func failingStore() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        let recorder = StoreDecisionRecorder(repository: store, ledgerKey: TestKeys.ledgerKey)
        try await recorder.record(ConformanceValues.decisionRecord("before"))
        try store.close()
        await #expect(throws: (any Error).self) { try await recorder.record(ConformanceValues.decisionRecord("after")) }
        try await fixture.withStore { reopened async throws in
            #expect(try await reopened.decisionRecords(taskID: nil, limit: 10).map(\.id) == ["before"])
        }
    }

    @Test(
        "a stored row that is not valid JSON, not a whole record, or disagrees with its columns is an internal error",
        arguments: [
            "UPDATE decision_records SET record = 'not json'",
            #"UPDATE decision_records SET record = '{"id":"r"}'"#,
            "UPDATE decision_records SET record = replace(record, '\"allowed\":false', '\"allowed\":0')",
            "UPDATE decision_records SET tool = 'other.tool'",
            "UPDATE decision_records SET allowed = 1",
            "UPDATE decision_records SET id = 'r2'",
        ])
    func malformedRow(update: String) async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        try await store.saveDecisionRecords([ConformanceValues.fullDecisionRecord("r")], ledgerKey: TestKeys.ledgerKey)
        try await store.pool.write { db in try db.execute(sql: update) }
        await #expect(throws: LatchError(.internalError, "")) { _ = try await store.decisionRecords(taskID: nil, limit: 10) }
        await #expect(throws: LatchError(.internalError, "")) { _ = try await store.decisionRecords(taskID: "task-1", limit: 10) }
    }

    @Test("every query filter reads an index, never the whole table; a grant's records come through the task index")
    func queryPlans() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        try await store.saveDecisionRecords([ConformanceValues.fullDecisionRecord("r")], ledgerKey: TestKeys.ledgerKey)
        for (query, index) in IdentityStoreConformance.queryPlans {
            let sql = DecisionRecordQuerySQL(query)
            let values: [DatabaseValue] = sql.values.map { value in
                switch value {
                case .text(let text): text.databaseValue
                case .int(let int): int.databaseValue
                }
            }
            let plan = try await store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql.statement, arguments: StatementArguments(values + [sql.limit.databaseValue]))
                    .map { $0["detail"] as String }
            }
            let table = plan.filter { $0.contains(" decision_records ") || $0.hasSuffix(" decision_records") }
            #expect(table.count == 1 && table.allSatisfy { $0.contains("INDEX \(index)") }, "\(sql.whereClause): \(plan)")
        }
    }

    @Test("migration 13 records which tasks each grant's records are in, so records stored before it are found by grant")
    func grantTaskBackfill() async throws {
        let fixture = SQLiteFixture()
        defer { fixture.remove() }
        let store = try SQLiteIdentityStore(dataDirectory: fixture.dataDirectory)
        defer { try? store.close() }
        var other = ConformanceValues.decisionRecord("b", task: "task-2")
        other.grantID = "grant-2"
        try await store.saveDecisionRecords([ConformanceValues.decisionRecord("a"), other], ledgerKey: TestKeys.ledgerKey)
        let grantID = ConformanceValues.decisionRecord("a").grantID
        // As before migration 13: no row says where a grant's records are.
        try await store.pool.write { db in try db.execute(sql: "DELETE FROM decision_record_grants") }
        #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: grantID)).isEmpty)
        let backfill = try #require(StoreSchema.migrations.first { $0.version == 13 }?.statements(.sqlite).first { $0.hasPrefix("INSERT") })
        try await store.pool.write { db in try db.execute(sql: backfill) }
        #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: grantID)).map(\.record.id) == ["a"])
        #expect(try await store.decisionRecords(matching: DecisionRecordQuery(grantID: "grant-2")).map(\.record.id) == ["b"])
    }
}
