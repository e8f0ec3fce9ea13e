/// Why the gateway refused a call: a machine-readable code (stable; agents and tests match on
/// it) and a sentence for people.
public struct DenialReason: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// The tool is not one this gateway serves (or its upstream has not listed it).
    public static let unknownTool = "unknown_tool"
    /// The grant's scope does not name the tool.
    public static let toolNotInGrant = "tool_not_in_grant"
    /// The tool reads a data domain the grant does not name.
    public static let dataDomainNotInGrant = "data_domain_not_in_grant"
    /// The tool returns data more sensitive than the grant allows.
    public static let sensitivityAboveGrant = "sensitivity_above_grant"
    /// The call sends data to a destination the grant does not name.
    public static let destinationNotInGrant = "destination_not_in_grant"
    /// The tool takes a destination but the call names none.
    public static let destinationMissing = "destination_missing"
    /// The destination is not one unambiguous URL, email address or host.
    public static let destinationInvalid = "destination_invalid"
    /// No Cedar policy permits the call, or one forbids it.
    public static let policyDenied = "policy_denied"
    /// A policy failed to evaluate: the call is denied (fail closed).
    public static let policyError = "policy_error"
    /// The upstream could not be reached, died, or timed out.
    public static let upstreamUnavailable = "upstream_unavailable"
    /// The credential the upstream needs could not be produced.
    public static let credentialUnavailable = "credential_unavailable"
    /// The upstream lists the tool with a definition other than the one an operator accepted
    /// (tool pinning): the tool is disabled until the new definition is accepted.
    public static let toolDefinitionChanged = "tool_definition_changed"
    /// The upstream lists the tool, but no definition of it has been accepted yet
    /// (`tool_pinning: strict`, or a definition that cannot be pinned).
    public static let toolDefinitionNotAccepted = "tool_definition_not_accepted"
    /// The upstream lists the tool with a definition no operator has accepted that carries the
    /// marks of tool poisoning (``ToolDefinitionScreen``): not trusted on first use, held for review.
    public static let toolDefinitionSuspicious = "tool_definition_suspicious"
    /// The call is held for a person's approval: Cedar forbids annotated `@approvable`, or a
    /// guard rule that holds. The denial names the approval to retry with (`data.approval_id`).
    public static let approvalRequired = "approval_required"
    /// A retry names an approval nobody has decided yet.
    public static let approvalPending = "approval_pending"
    /// A retry names an approval a person denied.
    public static let approvalDenied = "approval_denied"
    /// A retry names an approval that expired (undecided, or approved but not used in time).
    public static let approvalTimeout = "approval_timeout"
    /// A retry names an approval another retry already used.
    public static let approvalConsumed = "approval_consumed"
    /// A retry names an approval that is not for this call (another tool, other arguments,
    /// another grant), or no approval at all.
    public static let approvalMismatch = "approval_mismatch"
    /// The task already has `approval_max_pending` approvals waiting: no new one is created.
    public static let approvalRateLimit = "approval_rate_limit"
    /// The approvals store failed: the call is denied (fail closed).
    public static let approvalUnavailable = "approval_unavailable"
    /// The agent (the grant's holder, subject or an actor in its chain) is quarantined: the
    /// guard's kill switch tripped on it, or an operator quarantined it.
    public static let agentQuarantined = "agent_quarantined"
    /// A guard rule stopped the call (when the rule names no reason of its own).
    public static let guardDenied = "guard_denied"
    /// The call's arguments cannot be shown to policies faithfully.
    public static let invalidArguments = "invalid_arguments"
}

/// What about a denial a person may lift: every determining Cedar policy is annotated
/// `@approvable`, or a guard rule held the call.
public struct Approvable: Hashable, Sendable {
    /// The annotations' reasons (or the guard rules' reason codes), for the person deciding.
    public var reason: String
    /// The policies that hold the call (Cedar IDs, `guard/<rule>`).
    public var policies: [String]

    public init(reason: String, policies: [String]) {
        self.reason = reason
        self.policies = policies
    }

    /// Both holds together (a Cedar hold and a guard hold on one call).
    func merged(with other: Approvable?) -> Approvable {
        guard let other else { return self }
        let reasons = [self.reason, other.reason].filter { !$0.isEmpty }
        return Approvable(reason: reasons.joined(separator: "; "), policies: self.policies + other.policies)
    }
}

/// The gateway's answer to one tool call.
public struct CallDecision: Hashable, Sendable {
    public var allowed: Bool
    /// Why it was denied (nil when allowed).
    public var reason: DenialReason?
    /// The policies that determined the decision (the satisfied permits on allow, the satisfied
    /// forbids on a policy deny).
    public var policies: [String]
    /// Policies that failed to evaluate.
    public var errors: [String]
    /// Where the call sends data, when the tool takes a destination.
    public var destination: String?
    /// Set on a denial a person may lift (see ``Approvable``); nil otherwise.
    public var approvable: Approvable?

    public static func allow(policies: [String], destination: String?) -> CallDecision {
        CallDecision(allowed: true, reason: nil, policies: policies, errors: [], destination: destination, approvable: nil)
    }

    public static func deny(_ code: String, _ message: String, policies: [String] = [], errors: [String] = [], destination: String? = nil)
        -> CallDecision
    {
        CallDecision(allowed: false, reason: DenialReason(code, message), policies: policies, errors: errors, destination: destination, approvable: nil)
    }
}
