public import LatchCore

/// The OAuth error codes a refused token exchange answers with (RFC 6749 §5.2, RFC 8693 §2.2.2).
public enum OAuthError: String, Hashable, Sendable {
    case invalidRequest = "invalid_request"
    case invalidGrant = "invalid_grant"
    case invalidScope = "invalid_scope"
    case invalidTarget = "invalid_target"
    case unauthorizedClient = "unauthorized_client"
    case unsupportedGrantType = "unsupported_grant_type"
    /// RFC 9449 §5: the DPoP proof at the token endpoint is missing or invalid.
    case invalidDPoPProof = "invalid_dpop_proof"
    /// The server failed (a store outage): nothing was issued.
    case serverError = "server_error"
}

/// A refused token exchange: the OAuth error code and a description naming the bound crossed.
public struct TokenExchangeError: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: OAuthError
    public let description: String
    public init(_ code: OAuthError, _ description: String) {
        self.code = code
        self.description = description
    }
}

/// What an actor asks for when a grant is handed to it (RFC 8693: `subject_token` = the parent
/// grant, `actor_token` = the actor's JWT-SVID). Unset parts default to the parent's.
public struct DelegationRequest: Hashable, Sendable {
    public var actor: SPIFFEID
    /// The DPoP key thumbprint the delegated grant is bound to (the actor's, never the parent's).
    public var actorKeyThumbprint: String
    public var scope: GrantScope?
    public var audience: Set<String>?
    /// Requested lifetime, milliseconds.
    public var lifetime: Int64?
    public var mayAct: Set<SPIFFEID>?

    public init(
        actor: SPIFFEID, actorKeyThumbprint: String, scope: GrantScope? = nil, audience: Set<String>? = nil, lifetime: Int64? = nil,
        mayAct: Set<SPIFFEID>? = nil
    ) {
        self.actor = actor
        self.actorKeyThumbprint = actorKeyThumbprint
        self.scope = scope
        self.audience = audience
        self.lifetime = lifetime
        self.mayAct = mayAct
    }
}

/// Delegation rules: a delegated grant only ever narrows.
public struct DelegationPolicy: Hashable, Sendable {
    /// Longest chain of delegations below a root grant (default 3).
    public var maxDepth: Int
    public init(maxDepth: Int = 3) { self.maxDepth = maxDepth }

    /// Derives the grant `request.actor` receives from `parent` at `now`, or the error naming the
    /// first bound the request crosses. Checks, in order: the parent is unexpired (`invalid_request`,
    /// as RFC 8693 §2.2.2 says for an unacceptable subject token); depth
    /// (`invalid_request`); no identity appears twice in the chain, the subject included
    /// (`invalid_request`: a cycle); `may_act` allows the actor (`unauthorized_client`); the scope
    /// (`invalid_scope`); the audience (`invalid_target`); the lifetime, which must end by the
    /// parent's expiry (`invalid_request`); `may_act` of the child within the parent's.
    public func delegate(_ parent: TaskGrant, _ request: DelegationRequest, id: String, now: Int64) throws(TokenExchangeError) -> TaskGrant {
        guard parent.expiresAt > now else { throw TokenExchangeError(.invalidRequest, "the parent grant has expired") }
        guard parent.depth + 1 <= self.maxDepth else {
            throw TokenExchangeError(.invalidRequest, "delegation depth \(parent.depth + 1) exceeds the maximum of \(self.maxDepth)")
        }
        guard request.actor != parent.subject, !parent.actors.contains(request.actor) else {
            throw TokenExchangeError(.invalidRequest, "\(request.actor) is already in the delegation chain (a cycle)")
        }
        if let allowed = parent.mayAct, !allowed.contains(request.actor) {
            throw TokenExchangeError(.unauthorizedClient, "\(request.actor) is not in the parent grant's may_act")
        }
        let scope = request.scope ?? parent.scope
        if let violation = scope.violation(within: parent.scope) { throw TokenExchangeError(.invalidScope, violation) }
        let audience = request.audience ?? parent.audience
        if let extra = audience.subtracting(parent.audience).sorted().first {
            throw TokenExchangeError(.invalidTarget, "audience \"\(extra)\" is not in the parent grant's audience")
        }
        guard !audience.isEmpty else { throw TokenExchangeError(.invalidTarget, "the audience may not be empty") }
        let expiresAt: Int64
        if let lifetime = request.lifetime {
            guard lifetime > 0 else { throw TokenExchangeError(.invalidRequest, "the lifetime must be positive") }
            let (end, overflow) = now.addingReportingOverflow(lifetime)
            guard !overflow, end <= parent.expiresAt else {
                throw TokenExchangeError(.invalidRequest, "the requested lifetime ends after the parent grant expires")
            }
            expiresAt = end
        } else {
            expiresAt = parent.expiresAt
        }
        var mayAct = request.mayAct ?? parent.mayAct
        if let parentMayAct = parent.mayAct, let requested = request.mayAct {
            if let extra = requested.subtracting(parentMayAct).map(\.description).sorted().first {
                throw TokenExchangeError(.invalidScope, "may_act \(extra) is not in the parent grant's may_act")
            }
            mayAct = requested
        }
        return TaskGrant(
            id: id, taskID: parent.taskID, subject: parent.subject, actors: [request.actor] + parent.actors, audience: audience,
            intent: parent.intent, scope: scope, issuedAt: now, expiresAt: expiresAt, ancestors: parent.ancestors + [parent.id],
            depth: parent.depth + 1,
            keyThumbprint: request.actorKeyThumbprint, mayAct: mayAct)
    }
}
