import LatchCore
public import LatchGrants
import LatchIdentity
import Testing

extension ConformanceValues {
    /// A quarantine in force of `/agents/<name>` since `since`, as the kill switch writes it.
    public static func quarantine(_ name: String, since: Int64 = 1_000, reason: String = "chain_anomaly") throws -> AgentQuarantine {
        AgentQuarantine(
            agent: try Self.spiffeID("/agents/" + name), reason: reason, by: AgentQuarantine.byGuard, since: since, taskID: "task-" + name,
            grantID: "grant-" + name, decisionID: "record-" + name, rules: ["exfil", "streak"])
    }
}

extension IdentityStoreConformance {
    static let quarantineChecks: [Check] = [
        Check("a quarantine reads back equal from another handle and after a restart; the first in force stands; listed newest first") { fixture in
            let odd = try {
                var odd = try V.quarantine("odd", since: 3_000, reason: "Résumé 日本語")
                odd.by = "alice"
                odd.taskID = nil
                odd.grantID = nil
                odd.decisionID = nil
                odd.rules = []
                odd.note = "by hand \"q\"\n"
                return odd
            }()
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    #expect(try await writer.quarantineAgent(try V.quarantine("a")))
                    #expect(try await writer.quarantineAgent(odd))
                    #expect(try await reader.quarantine(agent: try V.spiffeID("/agents/a")) == (try V.quarantine("a")))
                    #expect(try await reader.quarantine(agent: try V.spiffeID("/agents/none")) == nil)
                    var later = try V.quarantine("a", since: 9_000, reason: "rate_limit")
                    later.by = "bob"
                    #expect(try await !writer.quarantineAgent(later), "one in force already")
                    #expect(try await reader.quarantine(agent: try V.spiffeID("/agents/a"))?.reason == "chain_anomaly")
                    #expect(try await reader.quarantines(inForceOnly: true).map(\.agent.description) == [
                        "spiffe://example.org/agents/odd", "spiffe://example.org/agents/a",
                    ])
                }
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.quarantine(agent: try V.spiffeID("/agents/odd")) == odd, "after a restart")
            }
        },
        Check("a release takes one quarantine out of force, keeps its row and says who; releasing again finds none; quarantining again replaces it")
        { fixture in
            try await fixture.withStore { store async throws in
                let agent = try V.spiffeID("/agents/a")
                _ = try await store.quarantineAgent(try V.quarantine("a"))
                _ = try await store.quarantineAgent(try V.quarantine("b", since: 2_000))
                let released = try #require(try await store.releaseAgent(agent, by: "alice", note: "re-attested", now: 5_000))
                #expect(released.releasedAt == 5_000 && released.releasedBy == "alice" && released.note == "re-attested" && !released.inForce)
                #expect(released.reason == "chain_anomaly" && released.rules == ["exfil", "streak"])
                #expect(try await store.releaseAgent(agent, by: "alice", note: nil, now: 6_000) == nil)
                #expect(try await store.releaseAgent(try V.spiffeID("/agents/none"), by: "alice", note: nil, now: 6_000) == nil)
                #expect(try await store.quarantines(inForceOnly: true).map(\.agent) == [try V.spiffeID("/agents/b")])
                #expect(try await store.quarantines(inForceOnly: false).count == 2)
                #expect(try await store.quarantine(agent: agent) == released)
                let again = try V.quarantine("a", since: 7_000, reason: "rate_limit")
                #expect(try await store.quarantineAgent(again))
                #expect(try await store.quarantine(agent: agent) == again)
                #expect(try await store.quarantines(inForceOnly: true).map(\.agent) == [agent, try V.spiffeID("/agents/b")])
            }
        },
        Check("bad quarantines and releases are refused with invalid input and change nothing") { fixture in
            try await fixture.withStore { store async throws in
                var released = try V.quarantine("a")
                released.releasedAt = 2_000
                released.releasedBy = "alice"
                var noReason = try V.quarantine("b")
                noReason.reason = ""
                var nul = try V.quarantine("c")
                nul.note = "a\u{0}b"
                for bad in [released, noReason, nul] {
                    await #expect(throws: LatchError.self) { _ = try await store.quarantineAgent(bad) }
                }
                #expect(try await store.quarantines(inForceOnly: false).isEmpty)
                _ = try await store.quarantineAgent(try V.quarantine("d"))
                await #expect(throws: LatchError.self) { _ = try await store.releaseAgent(try V.spiffeID("/agents/d"), by: "", note: nil, now: 3_000) }
                #expect(try await store.quarantine(agent: try V.spiffeID("/agents/d"))?.inForce == true)
            }
        },
        Check("of 16 concurrent quarantines of one agent on two handles, exactly one is stored") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    let stored = try await withThrowingTaskGroup(of: Bool.self) { group in
                        for index in 0..<16 {
                            let store: any ConformanceStore = index.isMultiple(of: 2) ? first : second
                            group.addTask { try await store.quarantineAgent(try V.quarantine("a", since: Int64(1_000 + index))) }
                        }
                        return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                    }
                    #expect(stored == 1)
                }
            }
        },
    ]
}
