import LatchCore
public import LatchGateway
import LatchStoreSupport
import Synchronization

extension InMemoryIdentityStore: ApprovalRepository {
    public func createApproval(_ approval: Approval, maxPending: Int, now: Int64) async throws -> Bool {
        try StoreValidation.validateNew(approval, maxPending: maxPending)
        return try self.state.withLock { state in
            guard state.approvals[approval.id] == nil else { throw LatchError(.conflict, "an approval with this ID is already stored") }
            let pending = state.approvals.values.count { $0.taskID == approval.taskID && $0.status == .pending && $0.expiresAt > now }
            guard pending < maxPending else { return false }
            state.approvals[approval.id] = approval
            return true
        }
    }

    public func approval(id: String) async throws -> Approval? {
        self.state.withLock { $0.approvals[id] }
    }

    public func approvals(taskID: String?, status: Approval.Status?, limit: Int) async throws -> [Approval] {
        self.state.withLock { state in
            let selected = state.approvals.values.filter { approval in
                (taskID.map { approval.taskID.utf8.elementsEqual($0.utf8) } ?? true) && (status.map { approval.status == $0 } ?? true)
            }
            // Newest first, then ID descending bytewise, as the stores' `BINARY`/`"C"` collations order.
            let sorted = selected.sorted { a, b in
                a.createdAt != b.createdAt ? a.createdAt > b.createdAt : b.id.utf8.lexicographicallyPrecedes(a.id.utf8)
            }
            return Array(sorted.prefix(max(0, limit)))
        }
    }

    public func decideApproval(id: String, approve: Bool, by: String, note: String?, now: Int64) async throws -> ApprovalDecisionOutcome {
        try StoreValidation.validateDecision(id: id, by: by, note: note)
        return self.state.withLock { state in
            guard var approval = Self.settled(&state, id: id, now: now) else { return .notFound }
            guard approval.status == .pending else { return .refused(approval) }
            approval.status = approve ? .approved : .denied
            approval.decidedBy = by
            approval.decidedAt = now
            approval.note = note
            state.approvals[id] = approval
            return .decided(approval)
        }
    }

    public func consumeApproval(id: String, digest: String, now: Int64) async throws -> ApprovalConsumption {
        self.state.withLock { state in
            guard var approval = Self.settled(&state, id: id, now: now) else { return .notFound }
            guard approval.status == .approved, approval.digest == digest else { return .refused(approval) }
            approval.status = .consumed
            state.approvals[id] = approval
            return .consumed(approval)
        }
    }

    /// The approval after marking it `expired` if it is pending or approved past its expiry.
    private static func settled(_ state: inout State, id: String, now: Int64) -> Approval? {
        guard var approval = state.approvals[id] else { return nil }
        if approval.effectiveStatus(now: now) != approval.status {
            approval.status = .expired
            state.approvals[id] = approval
        }
        return approval
    }
}
