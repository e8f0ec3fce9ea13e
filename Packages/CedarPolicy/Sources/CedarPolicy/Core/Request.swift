/// An authorization request: who, doing what, to what, in which context.
public struct Request: Hashable, Sendable {
    public var principal: EntityUID
    public var action: EntityUID
    public var resource: EntityUID
    public var context: [String: Value]

    public init(principal: EntityUID, action: EntityUID, resource: EntityUID, context: [String: Value] = [:]) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = context
    }
}

/// `allow` or `deny`.
public enum Decision: String, Hashable, Sendable {
    case allow, deny
}

/// The authorizer's answer.
public struct Response: Hashable, Sendable {
    public var decision: Decision
    /// IDs of the policies that determined the decision (satisfied forbids on deny, satisfied
    /// permits on allow), sorted.
    public var reason: [String]
    /// Policies whose evaluation raised an error, sorted by policy ID. They were skipped.
    public var errors: [PolicyEvaluationError]

    public init(decision: Decision, reason: [String], errors: [PolicyEvaluationError]) {
        self.decision = decision
        self.reason = reason
        self.errors = errors
    }
}

/// One policy's evaluation error, reported with the response.
public struct PolicyEvaluationError: Hashable, Sendable {
    public var policyID: String
    public var error: CedarError
    public init(policyID: String, error: CedarError) {
        self.policyID = policyID
        self.error = error
    }
}
