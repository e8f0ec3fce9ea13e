public import CedarPolicy
public import LatchGrants

extension ToolCallPolicy {
    /// The decision for a recorded call whose arguments were not kept (`latch policy replay`):
    /// the scope checks with the recorded `destinations`, then Cedar with the recorded facts and
    /// `context.destination(s)`, and without `context.arguments`, so a policy that reads the
    /// arguments fails to evaluate (the decision then lists it in `errors`) instead of deciding
    /// on a guess.
    public func decideWithoutArguments(
        grant: TaskGrant, tool: GatewayTool, destinations: [String], context extra: [String: Value], facts: SessionFacts, now: Int64
    ) -> CallDecision {
        if let denial = Self.scopeDenial(grant: grant, tool: tool, destinations: destinations) { return denial }
        let destination = destinations.isEmpty ? nil : destinations.joined(separator: ",")
        let response = self.evaluate(
            grant: grant, tool: tool, arguments: nil, destinations: destinations, extra: extra, facts: facts, now: now, authorizer: self.authorizer)
        return self.decision(response, destination: destination) { authorizer in
            self.evaluate(grant: grant, tool: tool, arguments: nil, destinations: destinations, extra: extra, facts: facts, now: now, authorizer: authorizer)
        }
    }
}
