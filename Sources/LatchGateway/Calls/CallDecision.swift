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
    /// A guard rule holds the call for a person's approval.
    public static let approvalRequired = "approval_required"
    /// A guard rule stopped the call (when the rule names no reason of its own).
    public static let guardDenied = "guard_denied"
    /// The call's arguments cannot be shown to policies faithfully.
    public static let invalidArguments = "invalid_arguments"
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

    public static func allow(policies: [String], destination: String?) -> CallDecision {
        CallDecision(allowed: true, reason: nil, policies: policies, errors: [], destination: destination)
    }

    public static func deny(_ code: String, _ message: String, policies: [String] = [], errors: [String] = [], destination: String? = nil)
        -> CallDecision
    {
        CallDecision(allowed: false, reason: DenialReason(code, message), policies: policies, errors: errors, destination: destination)
    }
}
