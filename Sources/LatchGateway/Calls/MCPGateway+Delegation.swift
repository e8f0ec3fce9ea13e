import LatchCore
public import LatchGrants
import LatchGuard
import LatchIdentity

extension MCPGateway: DelegationGuard {
    /// The guard's delegation rules on a grant about to be handed on (policy allowed it): judged
    /// on the delegator's task and agent histories, the ones its calls feed, inside the task's
    /// lock. One that goes through is counted; one that is refused is recorded (method
    /// `delegate`, the delegator as agent, the parent grant, the rules as `guard/<id>`), and a
    /// kill trips the kill switch on the task and the delegator.
    public func screen(delegation child: TaskGrant, parentID: String, now: Int64) async -> DelegationRefusal? {
        guard let rules = self.settings.guardRules, rules.screensDelegations else { return nil }
        // The child's newest actor is the one receiving it; the delegator holds the parent.
        let delegator = child.actors.count > 1 ? child.actors[1] : child.subject
        let verdict = self.facts.withFacts(task: child.taskID, expiresAt: child.expiresAt, now: now) { facts in
            var task = facts.guardHistory.take() ?? rules.makeHistory()  // taken out: no copy on write
            let verdict = self.agentHistories.withHistory(agent: delegator.description, rules: rules, now: now) { agent in
                let verdict = rules.evaluateDelegation(depth: child.depth, task: task, agent: agent)
                if verdict.action == nil { rules.recordDelegation(task: &task, agent: &agent) }
                return verdict
            }
            facts.guardHistory = task
            return verdict
        }
        guard let action = verdict.action else { return nil }
        let reason = verdict.reason ?? DenialReason.guardDenied
        let message = "delegation to \(child.holder) stopped by guard rule \(verdict.rules.joined(separator: ", "))"
        var record = DecisionRecord(
            id: Self.recordID(now: now), time: now, taskID: child.taskID, grantID: parentID, agent: delegator.description,
            subject: child.subject.description, actors: child.actors.dropFirst().map(\.description), method: Self.delegateMethod, allowed: false)
        record.reason = reason
        record.message = message
        record.policies = verdict.rules.map { "guard/" + $0 }
        _ = await self.store(record, started: .now, what: "delegation")
        if action == .kill {
            await self.tripKillSwitch(
                KillTarget(
                    root: child.ancestors.first ?? parentID, taskID: child.taskID, agent: delegator, grantID: parentID, expiresAt: child.expiresAt,
                    decisionID: record.id),
                verdict: verdict, now: now)
        }
        return DelegationRefusal(reason: reason, message: message)
    }

    /// The `method` of the record of a delegation the guard refused.
    public static let delegateMethod = "delegate"
}
