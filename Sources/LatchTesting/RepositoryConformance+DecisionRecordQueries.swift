import LatchCore
public import LatchGateway
import Testing

extension IdentityStoreConformance {
    /// Every `latch audit query` filter and the index that serves it (migrations 5, 7, 8, 13), for
    /// each store's query-plan test.
    public static let queryPlans: [(DecisionRecordQuery, index: String)] = [
        (DecisionRecordQuery(), "decision_records_by_time"),
        (DecisionRecordQuery(agent: "spiffe://example.org/agent/a"), "decision_records_by_agent"),
        (DecisionRecordQuery(taskID: "task-1"), "decision_records_by_task"),
        (DecisionRecordQuery(grantID: "grant-1"), "decision_records_by_task"),
        (DecisionRecordQuery(tool: "mail.send"), "decision_records_by_tool"),
        (DecisionRecordQuery(traceID: "4bf92f3577b34da6a3ce929d0e0e4736"), "decision_records_by_trace"),
        (DecisionRecordQuery(since: 1, until: 2), "decision_records_by_time"),
        // The decision filters have no index of their own: the time index, read in order until the limit.
        (DecisionRecordQuery(allowed: false), "decision_records_by_time"),
        (DecisionRecordQuery(reason: "policy_denied"), "decision_records_by_time"),
    ]

    static let decisionRecordQueryChecks: [Check] = [
        Check("a decision record query filters on every field, in time order either way, pages by cursor, with ledger indices") { fixture in
            func record(
                _ id: String, _ offset: Int64, task: String = "task-1", agent: String = "spiffe://example.org/agent/a", tool: String? = "mail.send",
                allowed: Bool = true, reason: String? = nil, trace: String? = nil
            ) -> DecisionRecord {
                var record = V.decisionRecord(id, task: task, time: V.recordTime + offset, allowed: allowed, tool: tool)
                record.agent = agent
                record.grantID = "grant-\(task)-\(agent.hasSuffix("b") ? "b" : "a")"
                record.reason = reason
                record.traceID = trace
                return record
            }
            let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
            let records = [
                record("r0", 0, trace: trace),
                record("r1", 10, tool: "files.read", allowed: false, reason: "policy_denied", trace: trace),
                record("r2", 10, task: "task-2", agent: "spiffe://example.org/agent/b", tool: nil),
                record("r3", 20, task: "task-2", agent: "spiffe://example.org/agent/b", allowed: false, reason: "out_of_scope"),
                record("r4", 30, tool: "files.read", trace: "0af7651916cd43dd8448eb211c80319c"),
                record("r5", 40, allowed: false, reason: "policy_denied"),
            ]
            try await fixture.withStore { store async throws in
                try await store.saveDecisionRecords(Array(records[0..<2]), ledgerKey: TestKeys.ledgerKey)
                try await store.saveDecisionRecords(Array(records[2...]), ledgerKey: TestKeys.ledgerKey)
            }
            try await fixture.withStore { store async throws in
                func ids(_ query: DecisionRecordQuery) async throws -> [String] {
                    try await store.decisionRecords(matching: query).map(\.record.id)
                }
                let all = try await store.decisionRecords(matching: DecisionRecordQuery(limit: 100))
                #expect(all.map(\.record.id) == ["r5", "r4", "r3", "r2", "r1", "r0"], "newest first, equal times by ID descending")
                #expect(all.map(\.ledgerIndex) == [5, 4, 3, 2, 1, 0], "each with its ledger index")
                for indexed in all { #expect(indexed.record == records.first { $0.id == indexed.record.id }, "records read back whole") }
                #expect(try await ids(DecisionRecordQuery(order: .oldestFirst, limit: 100)) == ["r0", "r1", "r2", "r3", "r4", "r5"])
                #expect(try await ids(DecisionRecordQuery(agent: "spiffe://example.org/agent/b", limit: 100)) == ["r3", "r2"])
                #expect(try await ids(DecisionRecordQuery(agent: "spiffe://example.org/agent/B", limit: 100)) == [], "agents compare exactly")
                #expect(try await ids(DecisionRecordQuery(taskID: "task-1", limit: 100)) == ["r5", "r4", "r1", "r0"])
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-task-2-b", limit: 100)) == ["r3", "r2"])
                #expect(try await ids(DecisionRecordQuery(tool: "files.read", limit: 100)) == ["r4", "r1"])
                #expect(try await ids(DecisionRecordQuery(allowed: false, limit: 100)) == ["r5", "r3", "r1"])
                #expect(try await ids(DecisionRecordQuery(allowed: true, limit: 100)) == ["r4", "r2", "r0"])
                #expect(try await ids(DecisionRecordQuery(reason: "policy_denied", limit: 100)) == ["r5", "r1"])
                #expect(try await ids(DecisionRecordQuery(traceID: trace, order: .oldestFirst, limit: 100)) == ["r0", "r1"])
                #expect(try await ids(DecisionRecordQuery(since: V.recordTime + 10, until: V.recordTime + 30, limit: 100)) == ["r3", "r2", "r1"])
                #expect(try await ids(DecisionRecordQuery(since: V.recordTime + 41, limit: 100)) == [])
                #expect(
                    try await ids(DecisionRecordQuery(taskID: "task-1", tool: "mail.send", allowed: false, until: V.recordTime + 100, limit: 100))
                        == ["r5"], "filters combine")
                #expect(try await ids(DecisionRecordQuery(limit: 2)) == ["r5", "r4"])
                #expect(try await ids(DecisionRecordQuery(limit: 0)) == [])

                // Paging by cursor visits every record once, in both orders, including across equal times.
                for order in DecisionRecordQuery.Order.allCases {
                    var seen: [String] = []
                    var query = DecisionRecordQuery(order: order, limit: 2)
                    while true {
                        let page = try await store.decisionRecords(matching: query)
                        seen += page.map(\.record.id)
                        guard let last = page.last, page.count == query.limit else { break }
                        query.after = DecisionRecordQuery.Cursor(after: last.record)
                    }
                    let expected = ["r0", "r1", "r2", "r3", "r4", "r5"]
                    #expect(seen == (order == .oldestFirst ? expected : expected.reversed()), "\(order)")
                }
                var afterR2 = DecisionRecordQuery(order: .oldestFirst, limit: 100)
                afterR2.after = DecisionRecordQuery.Cursor(time: V.recordTime + 10, id: "r1")
                #expect(try await ids(afterR2) == ["r2", "r3", "r4", "r5"], "a cursor between two records of the same time")
            }
        },
        Check("a grant's records are found in every task they are in, in time order, in batches and with other filters") { fixture in
            // The gateway keeps a grant's records in one task; a store finds them in any.
            func record(_ id: String, _ offset: Int64, task: String, grant: String) -> DecisionRecord {
                var record = V.decisionRecord(id, task: task, time: V.recordTime + offset)
                record.grantID = grant
                return record
            }
            let first = [record("g0", 0, task: "task-1", grant: "grant-1"), record("g1", 5, task: "task-1", grant: "grant-2")]
            let second = [
                record("g2", 10, task: "task-2", grant: "grant-1"), record("g3", 15, task: "task-1", grant: "grant-1"),
                record("g4", 20, task: "task-1", grant: "grant-1"),
            ]
            try await fixture.withStore { store async throws in
                try await store.saveDecisionRecords(first, ledgerKey: TestKeys.ledgerKey)
                try await store.saveDecisionRecords(second, ledgerKey: TestKeys.ledgerKey)
            }
            try await fixture.withStore { store async throws in
                func ids(_ query: DecisionRecordQuery) async throws -> [String] {
                    try await store.decisionRecords(matching: query).map(\.record.id)
                }
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-1", limit: 100)) == ["g4", "g3", "g2", "g0"])
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-1", order: .oldestFirst, limit: 2)) == ["g0", "g2"])
                #expect(try await ids(DecisionRecordQuery(taskID: "task-1", grantID: "grant-1", limit: 100)) == ["g4", "g3", "g0"])
                #expect(try await ids(DecisionRecordQuery(taskID: "task-2", grantID: "grant-2", limit: 100)) == [])
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-2", limit: 100)) == ["g1"])
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-1", since: V.recordTime + 10, limit: 100)) == ["g4", "g3", "g2"])
                #expect(try await ids(DecisionRecordQuery(grantID: "grant-3", limit: 100)) == [])
            }
        },
    ]
}
