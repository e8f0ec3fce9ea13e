public import LatchCore

/// What the token endpoint asks the policy before it issues or reveals anything. Each case carries
/// the grant as it would be issued, so a policy sees exactly what the agent would get.
public enum GrantQuestion: Sendable {
    /// May `grant.subject` get this new task grant (its intent, scope, audience and lifetime)?
    case issue(TaskGrant)
    /// May `child.holder` (the actor) receive `child`, delegated from `parent`?
    case delegate(parent: TaskGrant, child: TaskGrant)
    /// May `caller` read the claims of `grant` (RFC 7662 introspection)?
    case introspect(caller: SPIFFEID, grant: TaskGrant)
}

/// A policy's answer. Anything but an explicit allow denies.
public struct GrantDecision: Hashable, Sendable {
    public var allowed: Bool
    /// The policies that determined the answer (satisfied forbids, else satisfied permits).
    public var policies: [String]
    /// Policies that failed to evaluate (they count as not satisfied).
    public var errors: [String]

    public init(allowed: Bool, policies: [String], errors: [String] = []) {
        self.allowed = allowed
        self.policies = policies
        self.errors = errors
    }
}

/// Decides ``GrantQuestion``s (in `latch serve`: Cedar policies). Must not block: it runs on the
/// token endpoint's request path.
public protocol GrantDecider: Sendable {
    func decide(_ question: GrantQuestion) -> GrantDecision
}

/// Screens a delegation that policy allowed against what its task did so far: the gateway's
/// guard rules on delegation fan-out and depth.
public protocol DelegationGuard: Sendable {
    /// Nil lets `delegation` (a grant about to be issued from `parentID`) through; a refusal
    /// names the reason code and the rules. A screen that lets it through has counted it.
    func screen(delegation: TaskGrant, parentID: String, now: Int64) async -> DelegationRefusal?
}

/// Why a delegation was refused after policy allowed it.
public struct DelegationRefusal: Hashable, Sendable {
    public var reason: String
    public var message: String

    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }
}
