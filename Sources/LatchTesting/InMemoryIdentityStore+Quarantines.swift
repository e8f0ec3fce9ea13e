public import LatchCore
public import LatchGrants
import LatchStoreSupport
import Synchronization

extension InMemoryIdentityStore: QuarantineRepository {
    public func quarantineAgent(_ quarantine: AgentQuarantine) async throws -> Bool {
        try StoreValidation.validate(quarantine)
        return self.state.withLock { state in
            if let existing = state.quarantines[quarantine.agent], existing.inForce { return false }
            state.quarantines[quarantine.agent] = quarantine
            return true
        }
    }

    public func releaseAgent(_ agent: SPIFFEID, by: String, note: String?, now: Int64) async throws -> AgentQuarantine? {
        try StoreValidation.validateRelease(by: by, note: note)
        return self.state.withLock { state in
            guard var quarantine = state.quarantines[agent], quarantine.inForce else { return nil }
            quarantine.releasedAt = now
            quarantine.releasedBy = by
            quarantine.note = note ?? quarantine.note
            state.quarantines[agent] = quarantine
            return quarantine
        }
    }

    public func quarantine(agent: SPIFFEID) async throws -> AgentQuarantine? {
        self.state.withLock { $0.quarantines[agent] }
    }

    public func quarantines(inForceOnly: Bool) async throws -> [AgentQuarantine] {
        self.state.withLock { state in
            state.quarantines.values.filter { !inForceOnly || $0.inForce }.sorted { a, b in
                a.since != b.since ? a.since > b.since : a.agent.description.utf8.lexicographicallyPrecedes(b.agent.description.utf8)
            }
        }
    }
}
