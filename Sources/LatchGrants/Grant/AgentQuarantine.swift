public import LatchCore
import Synchronization

/// An agent identity kept from getting or using grants until an operator releases it: what the
/// guard's kill switch does to the agent whose call tripped it (or an operator, by hand).
///
/// While an agent is quarantined, token exchange refuses it a grant (as subject, as actor, or
/// handing a grant on), and the gateway denies every call made with any grant it holds
/// (`agent_quarantined`), in every task.
public struct AgentQuarantine: Hashable, Sendable {
    /// The agent (its SPIFFE ID).
    public var agent: SPIFFEID
    /// The reason code (a guard rule's, e.g. `chain_anomaly`, or an operator's).
    public var reason: String
    /// Who quarantined it: `guard` for the kill switch, else the operator's name.
    public var by: String
    /// Milliseconds since the Unix epoch.
    public var since: Int64
    /// The task, grant and decision record of the call that tripped the kill switch, and the
    /// rules that fired (empty when an operator quarantined the agent).
    public var taskID: String?
    public var grantID: String?
    public var decisionID: String?
    public var rules: [String]
    /// When and by whom it was released; nil while in force.
    public var releasedAt: Int64?
    public var releasedBy: String?
    public var note: String?

    /// Who quarantines when the guard does.
    public static let byGuard = "guard"

    public init(
        agent: SPIFFEID, reason: String, by: String, since: Int64, taskID: String? = nil, grantID: String? = nil, decisionID: String? = nil,
        rules: [String] = [], releasedAt: Int64? = nil, releasedBy: String? = nil, note: String? = nil
    ) {
        self.agent = agent
        self.reason = reason
        self.by = by
        self.since = since
        self.taskID = taskID
        self.grantID = grantID
        self.decisionID = decisionID
        self.rules = rules
        self.releasedAt = releasedAt
        self.releasedBy = releasedBy
        self.note = note
    }

    public var inForce: Bool { self.releasedAt == nil }
}

/// The agents quarantined now, checked on every call and every token exchange without touching
/// the store. Filled by the kill switch at once (``quarantine(_:)``) and from the store, where
/// every node and `latch quarantine` write, by ``replace(with:readAt:)``.
///
/// Nobody quarantined is the usual case: a check then reads one atomic counter and takes no lock.
public final class QuarantineIndex: Sendable {
    private struct State {
        var agents: [SPIFFEID: AgentQuarantine] = [:]
        /// Put in force here and not yet written to the store (its write failed or is under
        /// way): kept across ``replace(with:readAt:)`` so a failed write never lifts one.
        var unsaved: [SPIFFEID: AgentQuarantine] = [:]
        /// Moves with every ``quarantine(_:saved:)``.
        var generation = 0
    }

    private let state = Mutex(State())
    private let count = Atomic<Int>(0)

    public init() {}

    /// Puts `quarantine` in force here (the first one in force for an agent is kept); `saved`
    /// says whether the store already holds it.
    public func quarantine(_ quarantine: AgentQuarantine, saved: Bool) {
        self.state.withLock { state in
            state.generation += 1
            if !saved { state.unsaved[quarantine.agent] = quarantine }
            if state.agents[quarantine.agent] == nil { state.agents[quarantine.agent] = quarantine }
            self.count.store(state.agents.count, ordering: .releasing)
        }
    }

    /// Marks a quarantine put in force earlier as written to the store.
    public func saved(_ agent: SPIFFEID) {
        self.state.withLock { _ = $0.unsaved.removeValue(forKey: agent) }
    }

    /// Where the index is: pass it to ``replace(with:readAt:)`` with what the store said after.
    public var generation: Int { self.state.withLock { $0.generation } }

    /// Replaces what is in force with the store's quarantines in force, read after `generation`
    /// was taken, plus those not saved yet. When a quarantine was put in force here since (the
    /// read may have missed it), nothing is dropped: the store's are only added.
    public func replace(with inForce: [AgentQuarantine], readAt generation: Int) {
        self.state.withLock { state in
            var next = state.generation == generation ? state.unsaved : state.agents
            for quarantine in inForce where next[quarantine.agent] == nil { next[quarantine.agent] = quarantine }
            state.agents = next
            self.count.store(next.count, ordering: .releasing)
        }
    }

    /// The quarantine in force for `agent`, if any.
    public func quarantine(of agent: SPIFFEID) -> AgentQuarantine? {
        guard self.count.load(ordering: .acquiring) > 0 else { return nil }
        return self.state.withLock { $0.agents[agent] }
    }

    /// The quarantine of any identity `grant` acts for: its holder, its subject or an actor in
    /// between (a grant handed on by a quarantined agent is stopped too).
    public func quarantine(of grant: TaskGrant) -> AgentQuarantine? {
        guard self.count.load(ordering: .acquiring) > 0 else { return nil }
        return self.state.withLock { state in
            if let found = state.agents[grant.holder] ?? state.agents[grant.subject] { return found }
            for actor in grant.actors { if let found = state.agents[actor] { return found } }
            return nil
        }
    }

    public var inForce: [AgentQuarantine] { self.state.withLock { Array($0.agents.values) } }
}

/// Where quarantines live (SQLite, PostgreSQL and in memory implement it; the conformance suite
/// in LatchTesting says what each must do). One row per agent: quarantining a released agent
/// again replaces its row.
public protocol QuarantineRepository: Sendable {
    /// Stores `quarantine` (in force). Returns false when the agent is already quarantined: the
    /// first quarantine in force is kept.
    func quarantineAgent(_ quarantine: AgentQuarantine) async throws -> Bool
    /// Releases the agent's quarantine in force; returns it released, or nil when there was none.
    func releaseAgent(_ agent: SPIFFEID, by: String, note: String?, now: Int64) async throws -> AgentQuarantine?
    func quarantine(agent: SPIFFEID) async throws -> AgentQuarantine?
    /// Quarantines, in force only or all, newest first.
    func quarantines(inForceOnly: Bool) async throws -> [AgentQuarantine]
}
