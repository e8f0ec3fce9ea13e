import LatchCore
import LatchGrants
public import LatchGateway
import Testing

extension ConformanceValues {
    /// A fixed time with milliseconds.
    public static let recordTime: Int64 = 1_700_000_000_456

    /// A record with only the fields every record has (every optional nil, no policies).
    public static func decisionRecord(
        _ id: String, task: String = "task-1", time: Int64 = recordTime, allowed: Bool = true, tool: String? = nil
    ) -> DecisionRecord {
        DecisionRecord(
            id: id, time: time, taskID: task, grantID: "grant-\(task)", agent: "spiffe://example.org/agent/a",
            subject: "spiffe://example.org/agent/a", actors: [], method: "tools/call", tool: tool, allowed: allowed)
    }

    /// A denied call with every field set: a message and an argument name in several scripts with
    /// characters JSON must escape, a delegation chain, policies and their errors, the facts.
    public static func fullDecisionRecord(_ id: String, task: String = "task-1", time: Int64 = recordTime) -> DecisionRecord {
        DecisionRecord(
            id: id, time: time, taskID: task, grantID: "grant-7", agent: "spiffe://example.org/agent/c",
            subject: "spiffe://example.org/agent/a", actors: ["spiffe://example.org/agent/c", "spiffe://example.org/agent/b"],
            method: "tools/call", tool: "mail.send", argumentsHMAC: String(repeating: "ab", count: 32),
            argumentHMACs: ["to": String(repeating: "cd", count: 32), "Résumé \u{0} \"q\"": String(repeating: "ef", count: 32)],
            argumentsSealed: "c2VhbGVkLWFyZ3VtZW50cw", promptHMAC: String(repeating: "0f", count: 32), promptSealed: "c2VhbGVkLXByb21wdA",
            allowed: false, reason: "policy_denied",
            message: "Résumé 日本語 مرحبا 🧑🏽‍💻 e\u{301} \"quoted\" back\\slash\nnew line\ttab \u{1} \u{0} end",
            policies: ["no-external-mail", "baseline"], policyErrors: ["policy p1: attribute `risk` not found"],
            destination: "external", upstreamOutcome: nil, traceID: "4bf92f3577b34da6a3ce929d0e0e4736", latencyMicros: 1_234_567,
            decisionID: "decision-of-this-outcome",
            facts: DecisionFacts(
                calls: 3, denials: 1, toolsUsed: ["mail.read", "crm.lookup"], maxSensitivityRead: .confidential, dataDomainsRead: ["sales"],
                secondsSinceFirstCall: 42, readsInFlight: 1, untrustedRead: true, taintedArguments: ["body"],
                http: DecisionFacts.HTTP(method: "POST", path: "/v1/messages")))
    }
}

extension IdentityStoreConformance {
    static let decisionRecordChecks: [Check] = [
        Check("decision records read back equal in every field, from another handle and after a restart") { fixture in
            var allowed = V.fullDecisionRecord("full-allowed", time: V.recordTime + 1)
            allowed.allowed = true
            allowed.reason = nil
            allowed.message = nil
            allowed.policyErrors = []
            allowed.upstreamOutcome = "tool_error"
            allowed.latencyMicros = Int64.max
            let records = [
                V.fullDecisionRecord("full"), allowed,
                V.decisionRecord("minimal", time: 0, allowed: false),
                // An agent may name any tool: one with U+0000 and an empty one are recorded as they were.
                V.decisionRecord("odd-tool-nul", time: V.recordTime + 2, tool: "a\u{0}b"),
                V.decisionRecord("odd-tool-empty", time: V.recordTime + 3, tool: ""),
            ]
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    try await writer.saveDecisionRecords(records, ledgerKey: TestKeys.ledgerKey)
                    let read = try await reader.decisionRecords(taskID: nil, limit: 10)
                    #expect(read.count == records.count)
                    for record in records {
                        #expect(read.first { $0.id == record.id } == record, "\(record.id) round-trips through another handle")
                    }
                }
            }
            try await fixture.withStore { store async throws in
                let read = try await store.decisionRecords(taskID: nil, limit: 10)
                for record in records {
                    #expect(read.first { $0.id == record.id } == record, "\(record.id) round-trips after a restart")
                }
                let full = try #require(read.first { $0.id == "full" })
                #expect(full.message == records[0].message, "the message keeps every character")
                #expect(full.argumentHMACs == records[0].argumentHMACs && full.facts == records[0].facts)
                #expect(full.tool == "mail.send" && full.upstreamOutcome == nil)
                let minimal = try #require(read.first { $0.id == "minimal" })
                #expect(minimal.tool == nil && minimal.reason == nil && minimal.promptSealed == nil && minimal.traceID == nil)
                #expect(minimal.argumentHMACs.isEmpty && minimal.facts == nil)
                #expect(minimal.actors.isEmpty && minimal.policies.isEmpty && !minimal.allowed)
            }
        },
        Check("decision records list newest first, equal times by ID, optionally one task's, at most the limit") { fixture in
            try await fixture.withStore { store async throws in
                // IDs compare by UTF-8 bytes: "B" < "b" < "c" < "é".
                try await store.saveDecisionRecords(
                    [
                        V.decisionRecord("b", task: "task-2", time: V.recordTime + 7),
                        V.decisionRecord("a", time: V.recordTime + 5, allowed: false),
                    ], ledgerKey: TestKeys.ledgerKey)
                try await store.saveDecisionRecords(
                    [
                        V.decisionRecord("c", time: V.recordTime + 7, tool: "reports.read"),
                        V.decisionRecord("é", task: "task-2", time: V.recordTime + 7),
                        V.decisionRecord("B", time: V.recordTime + 7),
                        V.decisionRecord("old", task: "task-2", time: V.recordTime - 1_000),
                    ], ledgerKey: TestKeys.ledgerKey)
                #expect(try await store.decisionRecords(taskID: nil, limit: 50).map(\.id) == ["é", "c", "b", "B", "a", "old"])
                #expect(try await store.decisionRecords(taskID: "task-1", limit: 50).map(\.id) == ["c", "B", "a"])
                #expect(try await store.decisionRecords(taskID: "task-2", limit: 50).map(\.id) == ["é", "b", "old"])
                #expect(try await store.decisionRecords(taskID: "TASK-1", limit: 50).isEmpty, "task IDs compare exactly")
                #expect(try await store.decisionRecords(taskID: "missing", limit: 50).isEmpty)
                #expect(try await store.decisionRecords(taskID: nil, limit: 2).map(\.id) == ["é", "c"])
                #expect(try await store.decisionRecords(taskID: "task-1", limit: 1).map(\.id) == ["c"])
                #expect(try await store.decisionRecords(taskID: nil, limit: 0).isEmpty)
                #expect(try await store.decisionRecords(taskID: nil, limit: -1).isEmpty)
            }
        },
        Check("a batch with a decision record ID already stored or repeated stores none of its records") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveDecisionRecords([DecisionRecord](), ledgerKey: TestKeys.ledgerKey)
                let stored = V.fullDecisionRecord("stored")
                try await store.saveDecisionRecords([stored], ledgerKey: TestKeys.ledgerKey)
                let fresh = [V.decisionRecord("fresh-1"), V.decisionRecord("fresh-2", task: "task-2")]
                var clash = V.decisionRecord("stored", task: "task-3", time: V.recordTime + 50)
                clash.tool = "other.tool"
                await expectLatchError(.conflict, "a stored id at the end of a batch") {
                    try await store.saveDecisionRecords(fresh + [clash], ledgerKey: TestKeys.ledgerKey)
                }
                await expectLatchError(.conflict, "an id twice in one batch") {
                    try await store.saveDecisionRecords(fresh + [fresh[0]], ledgerKey: TestKeys.ledgerKey)
                }
                try await fixture.withStore { other async throws in
                    await expectLatchError(.conflict, "an id stored through another handle") {
                        try await other.saveDecisionRecords([V.decisionRecord("fresh-3"), stored], ledgerKey: TestKeys.ledgerKey)
                    }
                }
                #expect(try await store.decisionRecords(taskID: nil, limit: 50) == [stored], "the stored record is untouched")
                #expect(try await store.decisionRecords(taskID: "task-3", limit: 50).isEmpty)
                try await store.saveDecisionRecords(fresh, ledgerKey: TestKeys.ledgerKey)
                #expect(try await store.decisionRecords(taskID: nil, limit: 50).map(\.id) == ["stored", "fresh-2", "fresh-1"])
            }
        },
        Check("a batch of hundreds of decision records is saved in one call and lists in order") { fixture in
            try await fixture.withStore { store async throws in
                let batch = (0..<300).map { index in
                    V.decisionRecord("r\(index)", task: "task-\(index % 3)", time: V.recordTime + Int64(index / 2), allowed: index % 5 != 0)
                }
                try await store.saveDecisionRecords(batch, ledgerKey: TestKeys.ledgerKey)
                let all = try await store.decisionRecords(taskID: nil, limit: 1_000)
                #expect(all.count == 300)
                #expect(Set(all) == Set(batch))
                // Times 149, 149, 148: r299 and r298 share a millisecond.
                #expect(all.prefix(3).map(\.id) == ["r299", "r298", "r297"])
                #expect(try await store.decisionRecords(taskID: "task-1", limit: 1_000).count == 100)
            }
        },
        Check("decision records with an empty or NUL-containing ID, task ID or grant ID are rejected as invalid input") { fixture in
            try await fixture.withStore { store async throws in
                var noGrant = V.decisionRecord("no-grant")
                noGrant.grantID = ""
                await expectLatchError(.invalidInput, "empty id") {
                    try await store.saveDecisionRecords([V.decisionRecord("")], ledgerKey: TestKeys.ledgerKey)
                }
                await expectLatchError(.invalidInput, "id with NUL") {
                    try await store.saveDecisionRecords([V.decisionRecord("a\u{0}")], ledgerKey: TestKeys.ledgerKey)
                }
                await expectLatchError(.invalidInput, "empty task id") {
                    try await store.saveDecisionRecords([V.decisionRecord("ok"), V.decisionRecord("t", task: "")], ledgerKey: TestKeys.ledgerKey)
                }
                await expectLatchError(.invalidInput, "task id with NUL") {
                    try await store.saveDecisionRecords([V.decisionRecord("t", task: "x\u{0}")], ledgerKey: TestKeys.ledgerKey)
                }
                await expectLatchError(.invalidInput, "empty grant id") {
                    try await store.saveDecisionRecords([noGrant], ledgerKey: TestKeys.ledgerKey)
                }
                #expect(try await store.decisionRecords(taskID: nil, limit: 10).isEmpty)
            }
        },
    ]
}
