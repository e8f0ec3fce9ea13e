import LatchCore
public import LatchGateway
import LatchIdentity
import Testing

extension ConformanceValues {
    /// A pending approval of task `task` created at `createdAt`, living `ttl` milliseconds, bound
    /// to the digest of a call with `variant` as its argument.
    public static func approval(_ id: String, task: String = "task-1", variant: Int = 0, createdAt: Int64 = 1_000, ttl: Int64 = 10_000) -> Approval {
        Approval(
            id: id, taskID: task, grantID: "grant-" + task, agent: "spiffe://example.org/agents/a", tool: "payments.pay",
            digest: Self.approvalDigest(task: task, variant: variant), reason: "payments to a new payee", policies: ["new-payee", "guard/payee"],
            promptHMAC: String(repeating: "a", count: 64), argumentsHMAC: String(repeating: "b", count: 64),
            argumentsSealed: "c2VhbGVkLWFyZ3VtZW50cw-_", promptSealed: "c2VhbGVkLXByb21wdA",
            risk: .object([
                "labels": .object(["sensitivity": .string("confidential"), "egress": .string("external")]),
                "destination": .string("bob@example.com"), "tainted_arguments": .array([.string("iban")]), "reason": .string("Résumé \u{0}"),
            ]),
            createdAt: createdAt, expiresAt: createdAt + ttl)
    }

    /// The digest ``approval(_:task:variant:createdAt:ttl:)`` binds.
    public static func approvalDigest(task: String = "task-1", variant: Int = 0) -> String {
        Approval.digest(tool: "payments.pay", arguments: .object(["amount": .int(Int64(100 + variant))]), grantID: "grant-" + task)
    }
}

extension IdentityStoreConformance {
    static let approvalChecks: [Check] = [
        Check("approvals read back equal in every field, from another handle and after a restart; listed newest first, filtered by task and status") {
            fixture in
            let odd = {
                var odd = V.approval("odd", task: "task-2", createdAt: 2_000)
                odd.reason = "Résumé 日本語 \"q\"\n"
                odd.policies = []
                odd.promptHMAC = nil
                odd.argumentsHMAC = nil
                odd.argumentsSealed = nil
                odd.promptSealed = nil
                odd.risk = nil
                return odd
            }()
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    #expect(try await writer.createApproval(V.approval("a1"), maxPending: 5, now: 1_000))
                    #expect(try await writer.createApproval(V.approval("a2", variant: 1, createdAt: 3_000), maxPending: 5, now: 3_000))
                    #expect(try await writer.createApproval(odd, maxPending: 5, now: 2_000))
                    #expect(try await reader.approval(id: "a1") == V.approval("a1"))
                    #expect(try await reader.approval(id: "odd") == odd)
                    #expect(try await reader.approval(id: "none") == nil)
                    #expect(try await reader.approvals(taskID: nil, status: nil, limit: 10).map(\.id) == ["a2", "odd", "a1"])
                    #expect(try await reader.approvals(taskID: nil, status: nil, limit: 2).map(\.id) == ["a2", "odd"])
                    #expect(try await reader.approvals(taskID: "task-1", status: nil, limit: 10).map(\.id) == ["a2", "a1"])
                    _ = try await writer.decideApproval(id: "a1", approve: true, by: "alice", note: "ok", now: 1_500)
                    #expect(try await reader.approvals(taskID: nil, status: .approved, limit: 10).map(\.id) == ["a1"])
                    #expect(try await reader.approvals(taskID: "task-2", status: .pending, limit: 10).map(\.id) == ["odd"])
                }
            }
            try await fixture.withStore { store async throws in
                var approved = V.approval("a1")
                approved.status = .approved
                approved.decidedBy = "alice"
                approved.decidedAt = 1_500
                approved.note = "ok"
                #expect(try await store.approval(id: "a1") == approved, "after a restart")
                #expect(try await store.approval(id: "odd") == odd)
            }
        },
        Check("a task gets at most maxPending unexpired pending approvals; decided, expired and other tasks' ones do not count") { fixture in
            try await fixture.withStore { store async throws in
                for index in 0..<3 {
                    #expect(try await store.createApproval(V.approval("p\(index)", variant: index), maxPending: 3, now: 1_000))
                }
                #expect(try await store.createApproval(V.approval("p3", variant: 3), maxPending: 3, now: 1_000) == false, "the cap")
                #expect(try await store.approval(id: "p3") == nil, "nothing stored past the cap")
                #expect(try await store.createApproval(V.approval("q0", task: "task-2"), maxPending: 3, now: 1_000), "another task")
                _ = try await store.decideApproval(id: "p0", approve: false, by: "bob", note: nil, now: 1_100)
                #expect(try await store.createApproval(V.approval("p4", variant: 4), maxPending: 3, now: 1_200), "a decided one frees a slot")
                #expect(try await store.createApproval(V.approval("p5", variant: 5), maxPending: 3, now: 1_200) == false)
                // p1, p2 and p4 expire at 11_000, 11_000 and 11_000 (created at 1_000, ttl 10_000).
                #expect(
                    try await store.createApproval(V.approval("p6", variant: 6, createdAt: 11_000), maxPending: 3, now: 11_000),
                    "expired ones do not count")
            }
        },
        Check("concurrent holds of one task on two handles create at most maxPending approvals") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                        for index in 0..<16 {
                            let store = index.isMultiple(of: 2) ? first : second
                            group.addTask { try await store.createApproval(V.approval("c\(index)", variant: index), maxPending: 5, now: 1_000) }
                        }
                        return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                    }
                    #expect(created == 5)
                    #expect(try await first.approvals(taskID: "task-1", status: .pending, limit: 100).count == 5)
                }
            }
        },
        Check("an approval takes one decision: a second, or one after expiry, is refused and changes nothing; an expired one says so") { fixture in
            try await fixture.withStore { store async throws in
                _ = try await store.createApproval(V.approval("d1"), maxPending: 5, now: 1_000)
                _ = try await store.createApproval(V.approval("d2", variant: 1), maxPending: 5, now: 1_000)
                guard case .decided(let approved) = try await store.decideApproval(id: "d1", approve: true, by: "alice", note: "fine", now: 2_000)
                else {
                    Issue.record("the first decision is taken")
                    return
                }
                #expect(approved.status == .approved && approved.decidedBy == "alice" && approved.decidedAt == 2_000 && approved.note == "fine")
                #expect(try await store.decideApproval(id: "d1", approve: false, by: "bob", note: nil, now: 2_100) == .refused(approved))
                #expect(try await store.decideApproval(id: "d1", approve: true, by: "bob", note: nil, now: 2_100) == .refused(approved))
                #expect(try await store.decideApproval(id: "missing", approve: true, by: "bob", note: nil, now: 2_100) == .notFound)
                // d2 expires at 11_000: deciding then (expiry is exclusive) is refused and marks it expired.
                guard case .refused(let expired) = try await store.decideApproval(id: "d2", approve: true, by: "alice", note: nil, now: 11_000) else {
                    Issue.record("an expired approval is refused")
                    return
                }
                #expect(expired.status == .expired && expired.decidedBy == nil)
                #expect(try await store.approval(id: "d2")?.status == .expired)
                await #expect(throws: LatchError.self) { try await store.decideApproval(id: "d1", approve: true, by: "", note: nil, now: 2_000) }
                await #expect(throws: LatchError.self) {
                    try await store.decideApproval(id: "d1", approve: true, by: "a\u{0}b", note: nil, now: 2_000)
                }
            }
        },
        Check("consume takes an approved approval once, only for its digest and before expiry; otherwise it says what the approval is") { fixture in
            try await fixture.withStore { store async throws in
                let digest = V.approvalDigest()
                _ = try await store.createApproval(V.approval("k1"), maxPending: 5, now: 1_000)
                guard case .refused(let pending) = try await store.consumeApproval(id: "k1", digest: digest, now: 1_500) else {
                    Issue.record("a pending approval is not consumed")
                    return
                }
                #expect(pending.refusal(digest: digest, now: 1_500) == DenialReason.approvalPending)
                _ = try await store.decideApproval(id: "k1", approve: true, by: "alice", note: nil, now: 2_000)
                guard case .refused(let other) = try await store.consumeApproval(id: "k1", digest: V.approvalDigest(variant: 9), now: 2_500) else {
                    Issue.record("another call's digest does not consume it")
                    return
                }
                #expect(other.status == .approved && other.refusal(digest: V.approvalDigest(variant: 9), now: 2_500) == DenialReason.approvalMismatch)
                guard case .consumed(let used) = try await store.consumeApproval(id: "k1", digest: digest, now: 3_000) else {
                    Issue.record("the approved call consumes it")
                    return
                }
                #expect(used.status == .consumed && used.decidedBy == "alice")
                guard case .refused(let again) = try await store.consumeApproval(id: "k1", digest: digest, now: 3_000) else {
                    Issue.record("a second retry does not")
                    return
                }
                #expect(again.refusal(digest: digest, now: 3_000) == DenialReason.approvalConsumed)
                #expect(try await store.consumeApproval(id: "nope", digest: digest, now: 3_000) == .notFound)

                _ = try await store.createApproval(V.approval("k2", variant: 1), maxPending: 5, now: 1_000)
                _ = try await store.decideApproval(id: "k2", approve: false, by: "bob", note: "no", now: 2_000)
                guard case .refused(let denied) = try await store.consumeApproval(id: "k2", digest: V.approvalDigest(variant: 1), now: 2_500) else {
                    Issue.record("a denied approval is not consumed")
                    return
                }
                #expect(denied.refusal(digest: V.approvalDigest(variant: 1), now: 2_500) == DenialReason.approvalDenied)

                // Approved, not used before expiry (11_000): refused at expiry, and marked expired.
                _ = try await store.createApproval(V.approval("k3", variant: 2), maxPending: 5, now: 1_000)
                _ = try await store.decideApproval(id: "k3", approve: true, by: "alice", note: nil, now: 2_000)
                guard case .refused(let late) = try await store.consumeApproval(id: "k3", digest: V.approvalDigest(variant: 2), now: 11_000) else {
                    Issue.record("an expired approval is not consumed")
                    return
                }
                #expect(late.status == .expired && late.refusal(digest: V.approvalDigest(variant: 2), now: 11_000) == DenialReason.approvalTimeout)
            }
        },
        Check("N concurrent retries on two handles: exactly one consumes an approval") { fixture in
            try await fixture.withStore { first async throws in
                try await fixture.withStore { second async throws in
                    for round in 0..<4 {
                        let id = "r\(round)"
                        _ = try await first.createApproval(V.approval(id, variant: round), maxPending: 5, now: 1_000)
                        _ = try await second.decideApproval(id: id, approve: true, by: "alice", note: nil, now: 1_500)
                        let digest = V.approvalDigest(variant: round)
                        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                            for index in 0..<24 {
                                let store = index.isMultiple(of: 2) ? first : second
                                group.addTask {
                                    if case .consumed = try await store.consumeApproval(id: id, digest: digest, now: 2_000) { return true }
                                    return false
                                }
                            }
                            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                        }
                        #expect(wins == 1, "round \(round)")
                        #expect(try await first.approval(id: id)?.status == .consumed)
                    }
                }
            }
        },
        Check("invalid approvals are rejected as invalid input; an ID already stored is an error") { fixture in
            try await fixture.withStore { store async throws in
                var bad = V.approval("x")
                bad.digest = "ABC"
                await #expect(throws: LatchError.self) { try await store.createApproval(bad, maxPending: 5, now: 1_000) }
                bad = V.approval("")
                await #expect(throws: LatchError.self) { try await store.createApproval(bad, maxPending: 5, now: 1_000) }
                bad = V.approval("x", task: "t\u{0}")
                await #expect(throws: LatchError.self) { try await store.createApproval(bad, maxPending: 5, now: 1_000) }
                bad = V.approval("x")
                bad.reason = "nul \u{0}"
                await #expect(throws: LatchError.self) { try await store.createApproval(bad, maxPending: 5, now: 1_000) }
                bad = V.approval("x")
                bad.status = .approved
                await #expect(throws: LatchError.self) { try await store.createApproval(bad, maxPending: 5, now: 1_000) }
                #expect(try await store.createApproval(V.approval("x"), maxPending: 5, now: 1_000))
                await #expect(throws: (any Error).self) { try await store.createApproval(V.approval("x", variant: 1), maxPending: 5, now: 1_000) }
            }
        },
    ]
}

extension IdentityStoreConformance {
    static let operatorChecks: [Check] = [
        Check("operators: added once per name, listed by name with their token digest, from another handle and after a restart; removed once") {
            fixture in
            let alice = Operator(name: "alice", tokenSHA256: Operator.digest("token-a"), createdAt: 1_000)
            let bob = Operator(name: "Bob Ünïcode", tokenSHA256: Operator.digest("token-b"), createdAt: 2_000)
            try await fixture.withStore { writer async throws in
                try await fixture.withStore { reader async throws in
                    #expect(try await writer.addOperator(bob))
                    #expect(try await writer.addOperator(alice))
                    #expect(try await writer.addOperator(Operator(name: "alice", tokenSHA256: Operator.digest("other"), createdAt: 3_000)) == false)
                    #expect(try await reader.operators() == [bob, alice], "by name, bytewise")
                }
            }
            try await fixture.withStore { store async throws in
                #expect(try await store.operators() == [bob, alice], "after a restart")
                #expect(Operator.authenticate("token-a", among: try await store.operators()) == alice)
                #expect(Operator.authenticate("token-c", among: try await store.operators()) == nil)
                #expect(try await store.removeOperator(name: "alice"))
                #expect(try await store.removeOperator(name: "alice") == false)
                #expect(try await store.operators() == [bob])
                await #expect(throws: LatchError.self) { try await store.addOperator(Operator(name: "", tokenSHA256: [1], createdAt: 1)) }
            }
        }
    ]
}

extension ConformanceValues {
    /// Approvals as a Latch before migration 15 stored them, and as they read back after it: an
    /// egress approval whose risk has `http: {method, path}` (the path goes), and one whose
    /// tainted argument name holds the text of such a member and a U+0000 (escaped inside a JSON
    /// string, so it stays as it is).
    public static func approvalsWithEgressPaths() -> (before: [Approval], after: [Approval]) {
        var egress = Self.approval("egress", variant: 1)
        egress.tool = "pay.write"
        egress.risk = .object([
            "labels": .object(["sensitivity": .string("confidential"), "egress": .string("external")]),
            "destination": .string("pay.example.com"), "tainted_arguments": .array([]), "reason": .string("payments"),
            "policies": .array([.string("payments")]),
            "http": .object(["method": .string("POST"), "path": .string("/v1/customers/alice@example.com/charges")]),
        ])
        var tricky = Self.approval("tricky", variant: 2)
        tricky.risk = .object([
            "tainted_arguments": .array([.string(#"x","http":{"method":"GET","path":"/kept"}"#), .string("nul \u{0}")]),
            "reason": .string("r"), "policies": .array([]),
        ])
        var stripped = egress
        stripped.risk = .object([
            "labels": .object(["sensitivity": .string("confidential"), "egress": .string("external")]),
            "destination": .string("pay.example.com"), "tainted_arguments": .array([]), "reason": .string("payments"),
            "policies": .array([.string("payments")]), "http": .object(["method": .string("POST")]),
        ])
        return ([egress, tricky, Self.approval("plain")], [stripped, tricky, Self.approval("plain")])
    }
}
