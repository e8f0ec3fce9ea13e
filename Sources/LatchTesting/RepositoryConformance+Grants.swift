import LatchCore
public import LatchGrants
import LatchIdentity
import Testing

extension ConformanceValues {
    /// A fixed time with milliseconds (the claims keep whole seconds; stores must keep these).
    public static let grantTime: Int64 = 1_700_000_000_123

    /// A grant of task `task` held by `spiffe://example.org/agent/a`, or by the first of `actors`.
    /// Its depth is the number of `ancestors`; it expires `lifetime` ms after `issuedAt`.
    public static func grant(
        _ id: String, task: String = "task-1", ancestors: [String] = [], actors: [String] = [], mayAct: Set<String>? = nil,
        issuedAt: Int64 = grantTime, lifetime: Int64 = 600_000, intent: String = "summarize the quarterly report"
    ) throws -> TaskGrant {
        TaskGrant(
            id: id, taskID: task, subject: try Self.spiffeID("/agent/a"), actors: try actors.map(Self.spiffeID),
            audience: ["https://tools.example.org", "spiffe://example.org/service/reports"], intent: intent,
            scope: GrantScope(
                tools: ["reports.read", "mail.send"], dataDomains: ["finance"], destinations: ["internal"], maxSensitivity: .confidential),
            issuedAt: issuedAt, expiresAt: issuedAt + lifetime, ancestors: ancestors, depth: ancestors.count,
            keyThumbprint: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
            mayAct: try mayAct.map { Set(try $0.map(Self.spiffeID)) })
    }

    public static func revocation(
        _ grantID: String, _ reason: RevocationReason = .revoked, at revokedAt: Int64 = grantTime + 1_000,
        expiresAt: Int64 = grantTime + 600_000
    ) -> GrantRevocation {
        GrantRevocation(grantID: grantID, reason: reason, revokedAt: revokedAt, expiresAt: expiresAt)
    }

    /// A root grant and two delegated grants of task `task-1`: `root` → `child` (held by `/agent/b`,
    /// who may hand on to `/agent/c`) → `grandchild` (held by `/agent/c`, may hand on to nobody,
    /// expiring 100 ms after it was issued).
    public static func grantChain() throws -> [TaskGrant] {
        [
            try Self.grant("root", mayAct: ["/agent/b", "/agent/c"]),
            try Self.grant("child", ancestors: ["root"], actors: ["/agent/b"], mayAct: ["/agent/c"], issuedAt: grantTime + 5),
            try Self.grant(
                "grandchild", ancestors: ["root", "child"], actors: ["/agent/c", "/agent/b"], mayAct: [], issuedAt: grantTime + 9,
                lifetime: 100),
        ]
    }

    /// The task of ``grantChain()`` once completed 1 s after its root was issued.
    public static func grantChainTask() throws -> GrantTask {
        GrantTask(
            taskID: "task-1", subject: try Self.spiffeID("/agent/a"), intent: "summarize the quarterly report", rootGrantID: "root",
            createdAt: grantTime, expiresAt: grantTime + 600_000, endedAt: grantTime + 1_000, endReason: .completed)
    }
}

extension IdentityStoreConformance {
    static let grantChecks: [Check] = [
        Check("saved grants read back equal by id, by task in issue order, and newest first") { fixture in
            try await fixture.withStore { store async throws in
                let chain = try V.grantChain()
                let other = try V.grant("other-root", task: "task-2", issuedAt: V.grantTime + 7)
                try await store.saveGrants(chain)
                try await store.saveGrants([other])
                for grant in chain + [other] {
                    #expect(try await store.grant(id: grant.id) == grant, "\(grant.id) round-trips, milliseconds included")
                }
                #expect(try await store.grant(id: "missing") == nil)
                #expect(try await store.grant(id: "ROOT") == nil, "ids compare exactly")
                #expect(try await store.grants(taskID: "task-1") == chain)
                #expect(try await store.grants(taskID: "task-2") == [other])
                #expect(try await store.grants(taskID: "missing").isEmpty)
                #expect(try await store.listGrants(activeAt: nil, limit: 10).map(\.id) == ["grandchild", "other-root", "child", "root"])
                #expect(try await store.listGrants(activeAt: nil, limit: 2).map(\.id) == ["grandchild", "other-root"])
                #expect(try await store.listGrants(activeAt: nil, limit: 0).isEmpty)
                // The grandchild expires exactly at grantTime + 109: not active then.
                #expect(try await store.listGrants(activeAt: V.grantTime + 108, limit: 10).count == 4)
                #expect(try await store.listGrants(activeAt: V.grantTime + 109, limit: 10).map(\.id) == ["other-root", "child", "root"])
                #expect(try await store.listGrants(activeAt: V.grantTime + 600_005, limit: 10).map(\.id) == ["other-root"])
                #expect(try await store.listGrants(activeAt: V.grantTime + 600_007, limit: 10).isEmpty)
            }
        },
        Check("a task's grants list the root first when a child shares its millisecond") { fixture in
            try await fixture.withStore { store async throws in
                // IDs that sort before the root's, issued in the same millisecond.
                let root = try V.grant("z-root")
                let children = try ["a-child", "b-child"].map { try V.grant($0, ancestors: ["z-root"], actors: ["/agent/b"]) }
                try await store.saveGrants(children + [root])
                #expect(try await store.grants(taskID: "task-1").map(\.id) == ["z-root", "a-child", "b-child"])
            }
        },
        Check("a task row is created with each root grant, and only then") { fixture in
            try await fixture.withStore { store async throws in
                let chain = try V.grantChain()
                try await store.saveGrants(chain)
                let expected = GrantTask(
                    taskID: "task-1", subject: try V.spiffeID("/agent/a"), intent: "summarize the quarterly report", rootGrantID: "root",
                    createdAt: V.grantTime, expiresAt: V.grantTime + 600_000)
                #expect(try await store.task(id: "task-1") == expected)
                #expect(try await store.task(id: "missing") == nil)
                // A delegated grant saved without its root (another node issued the root) makes no task.
                try await store.saveGrants([try V.grant("orphan", task: "task-9", ancestors: ["elsewhere"], actors: ["/agent/b"])])
                #expect(try await store.task(id: "task-9") == nil)
                #expect(try await store.grants(taskID: "task-9").map(\.id) == ["orphan"])
            }
        },
        Check("a batch with a grant id already stored or repeated, or a second root for a task, stores nothing") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveGrants([])
                let root = try V.grant("root")
                try await store.saveGrants([root])
                let fresh = try V.grant("fresh-root", task: "task-2")
                let freshChild = try V.grant("fresh-child", task: "task-2", ancestors: ["fresh-root"], actors: ["/agent/b"])
                var clash = try V.grant("root", task: "task-3", issuedAt: V.grantTime + 50)
                clash.intent = "another task"
                await expectLatchError(.conflict, "a stored id at the end of a batch") {
                    try await store.saveGrants([fresh, freshChild, clash])
                }
                await expectLatchError(.conflict, "an id twice in one batch") {
                    try await store.saveGrants([fresh, freshChild, fresh])
                }
                await expectLatchError(.conflict, "a second root for a stored task") {
                    try await store.saveGrants([fresh, try V.grant("second-root", task: "task-1")])
                }
                await expectLatchError(.conflict, "two roots for one task in a batch") {
                    try await store.saveGrants([fresh, try V.grant("fresh-root-2", task: "task-2")])
                }
                for id in ["fresh-root", "fresh-child", "second-root", "fresh-root-2"] {
                    #expect(try await store.grant(id: id) == nil, "\(id) was not stored")
                }
                #expect(try await store.task(id: "task-2") == nil)
                #expect(try await store.task(id: "task-3") == nil)
                #expect(try await store.grant(id: "root") == root, "the stored grant is untouched")
                #expect(try await store.task(id: "task-1")?.rootGrantID == "root")
                #expect(try await store.listGrants(activeAt: nil, limit: 100) == [root])
                try await store.saveGrants([fresh, freshChild])
                #expect(try await store.grants(taskID: "task-2") == [fresh, freshChild], "the same batch without the clash goes in")
            }
        },
        Check("a batch of hundreds of grants is saved in one call and reads back in order") { fixture in
            try await fixture.withStore { store async throws in
                var batch = [try V.grant("g000")]
                for index in 1..<300 {
                    let id = "g" + String(repeating: "0", count: 3 - String(index).count) + String(index)
                    batch.append(try V.grant(id, ancestors: ["g000"], actors: ["/agent/b"], issuedAt: V.grantTime + Int64(index)))
                }
                try await store.saveGrants(batch)
                #expect(try await store.grants(taskID: "task-1") == batch)
                #expect(try await store.listGrants(activeAt: nil, limit: 3).map(\.id) == ["g299", "g298", "g297"])
                #expect(try await store.task(id: "task-1")?.rootGrantID == "g000")
            }
        },
        Check("grants saved as minted (the claims their tokens signed, issuer included) read back equal") { fixture in
            try await fixture.withStore { store async throws in
                let key = TestKeys.jwtKey(now: V.grantTime - 1_000)
                let chain = try V.grantChain()
                let records = try chain.map { try GrantToken.mintRecorded($0, issuer: "https://latch.example.org", key: key).record }
                try await store.saveGrants(records)
                #expect(try await store.grants(taskID: "task-1") == chain)
                #expect(try await store.task(id: "task-1")?.rootGrantID == "root")
            }
        },
        Check("revoke returns only new revocations, keeps the first, and bumps the revision only then") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveGrants(try V.grantChain())
                var last = try await store.revocationsRevision()
                func expectGrew(_ grew: Bool, _ what: Comment) async throws {
                    let now = try await store.revocationsRevision()
                    if grew { #expect(now > last, what) } else { #expect(now == last, what) }
                    last = now
                }
                #expect(try await store.revoke([]).isEmpty)
                try await expectGrew(false, "after revoking nothing")
                let first = V.revocation("child", .revoked, at: V.grantTime + 10)
                #expect(try await store.revoke([first]) == [first])
                try await expectGrew(true, "after a new revocation")
                let again = V.revocation("child", .completed, at: V.grantTime + 20)
                let grandchild = V.revocation("grandchild", .completed, at: V.grantTime + 20, expiresAt: V.grantTime + 109)
                #expect(try await store.revoke([again, grandchild]) == [grandchild], "only the new one")
                try await expectGrew(true, "after a batch with one new revocation")
                #expect(try await store.revoke([again]).isEmpty)
                try await expectGrew(false, "after revoking a revoked grant")
                #expect(try await store.revocation(grantID: "child") == first, "the first revocation stays")
                #expect(try await store.revocation(grantID: "grandchild") == grandchild)
                #expect(try await store.revocation(grantID: "root") == nil)
                // Two revocations of one grant in one batch: the earlier wins; new ones come back in the caller's order.
                let twiceA = V.revocation("zz", .completed, at: V.grantTime + 30)
                let twiceB = V.revocation("zz", .revoked, at: V.grantTime + 31)
                let single = V.revocation("aa", .revoked, at: V.grantTime + 32)
                #expect(try await store.revoke([twiceA, twiceB, single]) == [twiceA, single])
                try await expectGrew(true, "after a batch with a repeated grant")
                #expect(try await store.revocation(grantID: "zz") == twiceA)
                _ = try await store.revocations(notExpiredAt: 0)
                _ = try await store.grants(taskID: "task-1")
                try await expectGrew(false, "after reads")
                try await store.createEntry(try V.entry("r1", selectors: ["unix:uid:1"]))
                try await store.saveKey(V.key("k"))
                try await store.saveGrants([try V.grant("later", task: "task-2")])
                try await expectGrew(false, "after entry, key and grant writes")
                await expectLatchError(.invalidInput, "an empty grant id") { _ = try await store.revoke([V.revocation("")]) }
                try await expectGrew(false, "after a rejected revocation")
            }
        },
        Check("revoking a root grant ends its task with the reason; revoking a delegated grant does not") { fixture in
            try await fixture.withStore { store async throws in
                try await store.saveGrants(try V.grantChain())
                try await store.saveGrants([try V.grant("other-root", task: "task-2")])
                _ = try await store.revoke([V.revocation("child", .revoked, at: V.grantTime + 10)])
                #expect(try await store.task(id: "task-1")?.endedAt == nil, "a delegated grant's revocation leaves the task running")
                #expect(try await store.task(id: "task-1")?.endReason == nil)
                let done = V.revocation("root", .completed, at: V.grantTime + 40)
                #expect(try await store.revoke([done]) == [done])
                var ended = try #require(try await store.task(id: "task-1"))
                #expect(ended.endedAt == V.grantTime + 40)
                #expect(ended.endReason == .completed)
                _ = try await store.revoke([V.revocation("root", .revoked, at: V.grantTime + 50)])
                ended = try #require(try await store.task(id: "task-1"))
                #expect(ended.endedAt == V.grantTime + 40, "a task ends once")
                #expect(ended.endReason == .completed)
                #expect(try await store.task(id: "task-2")?.endedAt == nil, "other tasks run on")
                _ = try await store.revoke([V.revocation("other-root", .revoked, at: V.grantTime + 60)])
                #expect(try await store.task(id: "task-2")?.endReason == .revoked)
                #expect(try await store.task(id: "task-2")?.endedAt == V.grantTime + 60)
            }
        },
        Check("revocations(notExpiredAt:) lists only revocations of grants unexpired then") { fixture in
            try await fixture.withStore { store async throws in
                let revocations = [
                    V.revocation("a", expiresAt: V.grantTime + 100), V.revocation("b", .completed, expiresAt: V.grantTime + 200),
                    V.revocation("c", expiresAt: V.grantTime + 300),
                ]
                #expect(try await store.revoke(revocations) == revocations)
                #expect(Set(try await store.revocations(notExpiredAt: V.grantTime)) == Set(revocations))
                #expect(Set(try await store.revocations(notExpiredAt: V.grantTime + 199)) == Set(revocations[1...]))
                #expect(try await store.revocations(notExpiredAt: V.grantTime + 200) == [revocations[2]], "expired at its expiry")
                #expect(try await store.revocations(notExpiredAt: V.grantTime + 300).isEmpty)
                #expect(try await store.revocation(grantID: "a") == revocations[0], "an expired revocation is kept until swept")
            }
        },
        Check("revocations(afterRevision:) gives what later revisions recorded, seen from another handle too") { fixture in
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    let start = try await reader.revocationsRevision()
                    #expect(try await reader.revocations(afterRevision: start).isEmpty)
                    let first = [V.revocation("a"), V.revocation("b")]
                    let second = [V.revocation("c")]
                    _ = try await writer.revoke(first)
                    let middle = try await reader.revocationsRevision()
                    _ = try await writer.revoke(second + [V.revocation("a", .completed)])  // "a" is not new
                    _ = try await writer.revoke([V.revocation("b")])  // nothing new: no revision
                    let end = try await reader.revocationsRevision()
                    #expect(middle == start + 1 && end == start + 2)
                    #expect(Set(try await reader.revocations(afterRevision: start)) == Set(first + second))
                    #expect(try await reader.revocations(afterRevision: middle) == second)
                    #expect(try await reader.revocations(afterRevision: end).isEmpty)
                }
            }
        },
        Check("another handle on the same storage sees grants, revocations and the same revision, after a restart too") { fixture in
            let chain = try V.grantChain()
            let revocation = V.revocation("root", .completed, at: V.grantTime + 40)
            let revision = try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    let before = try await reader.revocationsRevision()
                    try await writer.saveGrants(chain)
                    #expect(try await reader.grants(taskID: "task-1") == chain)
                    #expect(try await writer.revoke([revocation]) == [revocation])
                    let after = try await writer.revocationsRevision()
                    #expect(after > before)
                    #expect(try await reader.revocationsRevision() == after, "both handles read one counter")
                    #expect(try await reader.revocation(grantID: "root") == revocation)
                    #expect(try await reader.revoke([V.revocation("root")]).isEmpty, "revoked through the other handle")
                    #expect(try await reader.task(id: "task-1")?.endReason == .completed)
                    await expectLatchError(.conflict, "a grant saved through the other handle") {
                        try await reader.saveGrants([chain[1]])
                    }
                    return after
                }
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.grants(taskID: "task-1") == chain)
                #expect(try await store.revocationsRevision() == revision)
                #expect(try await store.revocations(notExpiredAt: V.grantTime) == [revocation])
                #expect(try await store.task(id: "task-1")?.endedAt == V.grantTime + 40)
            }
        },
        Check("concurrent revocations of one grant from two handles: exactly one is new") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    try await first.saveGrants(try V.grantChain())
                    for round in 0..<3 {
                        let id = round == 0 ? "root" : "grant-\(round)"
                        let revision = try await second.revocationsRevision()
                        let new = try await withThrowingTaskGroup(of: [GrantRevocation].self) { group in
                            for task in 0..<12 {
                                let store = task.isMultiple(of: 2) ? first : second
                                let reason: RevocationReason = task.isMultiple(of: 3) ? .completed : .revoked
                                // Each batch also names another grant, in an order that differs between tasks.
                                let batch = [V.revocation(id, reason, at: V.grantTime + Int64(task)), V.revocation("shared-\(round)")]
                                group.addTask { try await store.revoke(task.isMultiple(of: 4) ? Array(batch.reversed()) : batch) }
                            }
                            return try await group.reduce(into: []) { $0 += $1 }
                        }
                        #expect(new.filter { $0.grantID == id }.count == 1, "round \(round)")
                        #expect(new.filter { $0.grantID == "shared-\(round)" }.count == 1, "round \(round)")
                        #expect(try await first.revocationsRevision() > revision, "round \(round)")
                        let stored = try await second.revocation(grantID: id)
                        #expect(stored == new.first(where: { $0.grantID == id }), "round \(round): the winner's revocation is the stored one")
                    }
                    let task = try await first.task(id: "task-1")
                    let rootRevocation = try await second.revocation(grantID: "root")
                    #expect(task?.endedAt == rootRevocation?.revokedAt)
                    #expect(task?.endReason == rootRevocation?.reason)
                }
            }
        },
        Check("deleteExpiredGrants removes expired grants, tasks and revocations and keeps the rest") { fixture in
            try await fixture.withStore { store async throws in
                let root = try V.grant("root", lifetime: 1_000)
                let child = try V.grant("child", ancestors: ["root"], actors: ["/agent/b"], lifetime: 500)
                let live = try V.grant("live-root", task: "task-2", lifetime: 5_000)
                try await store.saveGrants([root, child, live])
                _ = try await store.revoke([
                    V.revocation("child", expiresAt: child.expiresAt), V.revocation("live-root", expiresAt: live.expiresAt),
                ])
                let revision = try await store.revocationsRevision()
                #expect(try await store.deleteExpiredGrants(before: child.expiresAt) == 0, "nothing expired before its expiry")
                // root and child (task-1 goes with its root), child's revocation.
                #expect(try await store.deleteExpiredGrants(before: root.expiresAt + 1) == 3)
                #expect(try await store.deleteExpiredGrants(before: root.expiresAt + 1) == 0)
                #expect(try await store.grant(id: "root") == nil)
                #expect(try await store.grant(id: "child") == nil)
                #expect(try await store.task(id: "task-1") == nil)
                #expect(try await store.revocation(grantID: "child") == nil)
                #expect(try await store.grant(id: "live-root") == live)
                #expect(try await store.task(id: "task-2")?.rootGrantID == "live-root")
                #expect(try await store.revocation(grantID: "live-root") != nil)
                #expect(try await store.listGrants(activeAt: nil, limit: 10) == [live])
                #expect(try await store.revocationsRevision() == revision, "sweeping expired rows revokes nothing")
                #expect(try await store.deleteExpiredGrants(before: Int64.max) == 2)
            }
        },
        Check("malformed grants and revocations are rejected as invalid input") { fixture in
            try await fixture.withStore { store async throws in
                var noAudience = try V.grant("no-audience")
                noAudience.audience = []
                var wrongDepth = try V.grant("wrong-depth")
                wrongDepth.depth = 2
                await expectLatchError(.invalidInput, "empty grant id") { try await store.saveGrants([try V.grant("")]) }
                await expectLatchError(.invalidInput, "grant id with NUL") { try await store.saveGrants([try V.grant("a\u{0}")]) }
                await expectLatchError(.invalidInput, "empty task id") { try await store.saveGrants([try V.grant("g", task: "")]) }
                await expectLatchError(.invalidInput, "intent with NUL") {
                    try await store.saveGrants([try V.grant("ok"), try V.grant("g", task: "t", intent: "a\u{0}b")])
                }
                await expectLatchError(.invalidInput, "no audience") { try await store.saveGrants([noAudience]) }
                await expectLatchError(.invalidInput, "depth is not the number of ancestors") { try await store.saveGrants([wrongDepth]) }
                await expectLatchError(.invalidInput, "revocation with an empty grant id") {
                    _ = try await store.revoke([V.revocation("ok"), V.revocation("")])
                }
                #expect(try await store.listGrants(activeAt: nil, limit: 10).isEmpty)
                #expect(try await store.revocation(grantID: "ok") == nil)
                #expect(try await store.revocationsRevision() == 0)
            }
        },
    ]
}
