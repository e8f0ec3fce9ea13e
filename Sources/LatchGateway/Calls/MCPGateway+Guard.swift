import LatchCore
import LatchGrants
import LatchGuard
import LatchIdentity
import Logging
import Synchronization

/// The guard's history of each agent seen on this node, across its tasks.
///
/// Bounded: past `capacity` agents, those idle longest are forgotten (their novelty and rate
/// summaries start over). Taken inside a task's lock, never the other way round.
/// Told when the guard trips the kill switch (`guard_webhook`): for people, not for the decision
/// (the task is already revoked when it is told).
public protocol GuardAlertSink: Sendable {
    func killSwitchTripped(_ alert: GuardAlert) async
}

/// A kill switch tripped: which task, which agent, which rules, which call.
public struct GuardAlert: Hashable, Sendable {
    public var taskID: String
    public var agent: String
    public var grantID: String
    /// The guard rules that fired, and the reason code of the strongest.
    public var rules: [String]
    public var reason: String
    /// The decision record of the call that tripped it.
    public var decisionID: String
    /// Unix milliseconds.
    public var time: Int64
    /// Whether the task's grants were revoked in the store (always on this node).
    public var revoked: Bool
    /// Whether the agent's quarantine was written to the store (always in force on this node).
    public var quarantined: Bool = false
}

final class GuardAgentTable: Sendable {
    private struct Entry {
        var history: GuardHistory
        var lastUsed: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    let capacity: Int

    init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    func withHistory<Result>(agent: String, rules: GuardRules, now: Int64, _ body: (inout GuardHistory) -> Result) -> Result {
        self.entries.withLock { entries in
            if entries[agent] == nil, entries.count >= self.capacity {
                let idle = entries.sorted { $0.value.lastUsed < $1.value.lastUsed }.prefix(max(1, self.capacity / 10)).map(\.key)
                for key in idle { entries[key] = nil }
            }
            // Taken out while it changes, so its arrays are not copied on write.
            var entry = entries.removeValue(forKey: agent) ?? Entry(history: rules.makeHistory(), lastUsed: now)
            entry.lastUsed = now
            let result = body(&entry.history)
            entries[agent] = entry
            return result
        }
    }
}

extension GuardLabels {
    /// A tool's labels as the guard sees them, or a result's `sensitivity`.
    init(_ labels: ToolLabels, sensitivity: Sensitivity? = nil) {
        let egress: GuardLabels.Egress
        switch labels.egress {
        case .none: egress = .none
        case .internal: egress = .internal
        case .external: egress = .external
        }
        let sideEffects: GuardLabels.SideEffects
        switch labels.sideEffects {
        case .none: sideEffects = .none
        case .write: sideEffects = .write
        case .destructive: sideEffects = .destructive
        }
        self.init(sensitivity: (sensitivity ?? labels.sensitivity).rank, egress: egress, sideEffects: sideEffects, untrusted: labels.untrusted)
    }
}

extension MCPGateway {
    /// A call's decision once the guard has seen it.
    struct Screened {
        var decision: CallDecision
        var verdict: GuardVerdict
        var call: GuardCall?
        /// The decision is an allow only because an approved approval released its hold: the
        /// caller must consume that approval before forwarding.
        var released = false
    }

    /// The argument names whose values (any string inside them) came from the task's untrusted or
    /// sensitive results, and the sources together.
    static func taint(of arguments: [String: JSONValue], in provenance: ValueProvenance) -> (names: [String], sources: TaintSources) {
        guard !provenance.isEmpty else { return ([], []) }
        var names: [String] = []
        var sources: TaintSources = []
        func visit(_ value: JSONValue, depth: Int) -> TaintSources {
            guard depth < 8 else { return [] }
            switch value {
            case .string(let text): return provenance.origin(of: text)?.sources ?? []
            case .array(let items): return items.reduce(into: TaintSources()) { $0.formUnion(visit($1, depth: depth + 1)) }
            case .object(let members): return members.values.reduce(into: TaintSources()) { $0.formUnion(visit($1, depth: depth + 1)) }
            default: return []
            }
        }
        for (name, value) in arguments {
            let found = visit(value, depth: 0)
            guard !found.isEmpty else { continue }
            names.append(name)
            sources.formUnion(found)
        }
        return (names.sorted(), sources)
    }

    /// Runs the guard over a call scope and policy have decided (inside the task's lock) and
    /// folds the call into the task's and the agent's histories.
    ///
    /// A rule that denies or kills turns an allowed call into a denial with the rule's reason
    /// code (its ID in `policies`, as `guard/<id>`). A rule that holds turns it into a denial
    /// `approval_required` a person may lift (``CallDecision/approvable``). A call only
    /// approvable forbids deny is screened as if allowed: the guard may deny it outright or add
    /// its own hold. With `approved` (the call names an approved approval for exactly this call)
    /// a hold is released: the call is allowed, and ``Screened/released`` says the approval
    /// must be consumed. A kill verdict is returned even for a call policy denied: the caller
    /// trips the kill switch either way.
    ///
    /// A call made with a grant of a quarantined agent (``QuarantineIndex/quarantine(of:)``) is
    /// denied `agent_quarantined` whatever else was decided, and left out of the histories.
    func screen(
        _ decision: CallDecision, tool: GatewayTool, grant: TaskGrant, arguments: [String: JSONValue] = [:], taint: TaintSources,
        facts: inout SessionFacts, now: Int64, approved: Bool = false
    ) -> Screened {
        if let quarantine = self.authority.quarantines.quarantine(of: grant) {
            let denied = CallDecision.deny(
                DenialReason.agentQuarantined, "\(quarantine.agent) is quarantined (\(quarantine.reason)) until an operator releases it",
                destination: decision.destination)
            return Screened(decision: denied, verdict: .none, call: nil)
        }
        guard let rules = self.settings.guardRules else {
            let released = Self.release(decision, approved: approved)
            return Screened(decision: released.decision, verdict: .none, call: nil, released: released.released)
        }
        var amounts: [String: Double] = [:]
        for name in rules.budgetArguments {
            switch arguments[name] {
            case .int(let value)?: amounts[name] = Double(value)
            case .double(let value)?: amounts[name] = value
            default: continue
            }
        }
        let call = GuardCall(
            agent: grant.holder.description, task: grant.taskID, tool: tool.name, labels: GuardLabels(tool.labels), time: now, argumentSources: taint,
            amounts: amounts)
        var task = facts.guardHistory.take() ?? rules.makeHistory()  // taken out: no copy on write
        let (verdict, final) = self.agentHistories.withHistory(agent: call.agent, rules: rules, now: now) { agent in
            let verdict = rules.evaluate(call, task: task, agent: agent)
            var final = decision
            if decision.allowed || decision.approvable != nil, let action = verdict.action {
                let named = verdict.rules.map { "guard/" + $0 }
                switch action {
                case .hold:
                    let hold = Approvable(reason: verdict.reason ?? "", policies: named)
                    final = .deny(
                        DenialReason.approvalRequired,
                        "held for approval by guard rule \(verdict.rules.joined(separator: ", ")) (\(verdict.reason ?? ""))",
                        policies: decision.allowed ? named : decision.policies + named, destination: decision.destination)
                    final.approvable = decision.approvable.map { $0.merged(with: hold) } ?? hold
                case .deny, .kill:
                    final = .deny(
                        verdict.reason ?? DenialReason.guardDenied, "stopped by guard rule \(verdict.rules.joined(separator: ", "))", policies: named,
                        destination: decision.destination)
                }
            }
            let released = Self.release(final, approved: approved)
            rules.record(
                GuardEvent(call: call, allowed: released.decision.allowed, result: released.decision.allowed ? call.labels : nil, fired: verdict.rules),
                task: &task, agent: &agent)
            return (verdict, released)
        }
        facts.guardHistory = task
        return Screened(decision: final.decision, verdict: verdict, call: call, released: final.released)
    }

    /// An approvable denial allowed because an approved approval names the call.
    static func release(_ decision: CallDecision, approved: Bool) -> (decision: CallDecision, released: Bool) {
        guard approved, !decision.allowed, let hold = decision.approvable else { return (decision, false) }
        return (.allow(policies: hold.policies, destination: decision.destination), true)
    }

    /// Folds what an allowed call returned into the guard's histories (inside the task's lock).
    func screenResult(of call: GuardCall?, tool: GatewayTool, sensitivity: Sensitivity, facts: inout SessionFacts) {
        guard let rules = self.settings.guardRules, let call else { return }
        var task = facts.guardHistory.take() ?? rules.makeHistory()
        self.agentHistories.withHistory(agent: call.agent, rules: rules, now: call.time) { agent in
            rules.recordResult(of: call, labels: GuardLabels(tool.labels, sensitivity: sensitivity), task: &task, agent: &agent)
        }
        facts.guardHistory = task
    }

    /// The kill switch on a call made with `grant`: see ``tripKillSwitch(_:verdict:now:)``.
    func tripKillSwitch(grant: TaskGrant, verdict: GuardVerdict, decisionID: String, now: Int64) async {
        await self.tripKillSwitch(
            KillTarget(
                root: grant.ancestors.first ?? grant.id, taskID: grant.taskID, agent: grant.holder, grantID: grant.id, expiresAt: grant.expiresAt,
                decisionID: decisionID),
            verdict: verdict, now: now)
    }

    /// What the kill switch stops: a task (through its root grant) and the agent that tripped it.
    struct KillTarget {
        var root: String
        var taskID: String
        var agent: SPIFFEID
        /// The grant the agent used (for a delegation, the one it was handing on).
        var grantID: String
        var expiresAt: Int64
        var decisionID: String
    }

    /// The kill switch: the task's root grant is revoked (with it every grant of the task), and
    /// the agent is quarantined (no grant for it, no call from any grant it holds, until an
    /// operator releases it), each on this node at once and then in the store; the verdict is
    /// logged and, with a sink, told. A store failure is logged: the call or delegation that
    /// tripped it is denied either way, and both stay in force on this node.
    func tripKillSwitch(_ target: KillTarget, verdict: GuardVerdict, now: Int64) async {
        // The root may outlive this grant; the revocation is kept at least as long as any grant can live.
        let keep = max(target.expiresAt, now + self.authority.settings.maxLifetime)
        let reason = verdict.reason ?? DenialReason.guardDenied
        var alert = GuardAlert(
            taskID: target.taskID, agent: target.agent.description, grantID: target.grantID, rules: verdict.rules, reason: reason,
            decisionID: target.decisionID, time: now, revoked: false)
        defer {
            // Told in the background: a slow receiver never holds up an answer.
            if let sink = self.settings.guardAlerts { Task { [alert] in await sink.killSwitchTripped(alert) } }
        }
        let metadata: Logger.Metadata = [
            LogKey.taskID: "\(target.taskID)", LogKey.agentID: "\(target.agent)", LogKey.reason: "\(reason)", "guard.rules": "\(verdict.rules)",
        ]
        do {
            try await self.authority.revoke(grantID: target.root, expiresAt: keep, reason: .killed)
            alert.revoked = true
        } catch {
            self.logger.error(
                "guard kill switch: the task's grants could not be revoked in the store", metadata: [LogKey.taskID: "\(target.taskID)", LogKey.error: "\(error)"])
        }
        let quarantine = AgentQuarantine(
            agent: target.agent, reason: reason, by: AgentQuarantine.byGuard, since: now, taskID: target.taskID, grantID: target.grantID,
            decisionID: target.decisionID.isEmpty ? nil : target.decisionID, rules: verdict.rules)
        do {
            alert.quarantined = try await self.authority.quarantine(quarantine)
        } catch {
            self.logger.error(
                "guard kill switch: the agent's quarantine could not be stored (in force on this node)",
                metadata: [LogKey.agentID: "\(target.agent)", LogKey.error: "\(error)"])
        }
        // On this node both hold whatever the store said; `revoked` and `quarantined` say what the store took.
        var logged = metadata
        logged["guard.stored"] = "revoked=\(alert.revoked) quarantined=\(alert.quarantined)"
        self.logger.warning("guard kill switch: the task's grants are revoked and the agent is quarantined on this node", metadata: logged)
    }

    /// A result's text, for value provenance: the `text` of its content items and its
    /// structured content, as the agent receives them.
    static func resultText(_ result: JSONValue) -> String {
        var parts: [String] = []
        for item in result["content"]?.arrayValue ?? [] {
            if let text = item["text"]?.stringValue { parts.append(text) }
        }
        if let structured = result["structuredContent"] { parts.append(String(decoding: structured.serializedBytes, as: UTF8.self)) }
        return parts.joined(separator: "\n")
    }
}
