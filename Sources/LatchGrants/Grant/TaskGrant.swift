public import LatchCore

/// A task grant: the credential an agent uses for one task (RFC 9068 access token claims).
///
/// Invariants (kept by ``Delegation``): a delegated grant's scope, audience and expiry are within
/// its parent's, `depth` is the parent's plus one, and `actors` never repeats an identity.
public struct TaskGrant: Hashable, Sendable {
    /// `jti`.
    public var id: String
    public var taskID: String
    /// `sub`: the workload the task belongs to.
    public var subject: SPIFFEID
    /// The `act` chain, most recent actor first (RFC 8693 §4.1 nests the prior actors inside).
    public var actors: [SPIFFEID]
    public var audience: Set<String>
    public var intent: String
    public var scope: GrantScope
    /// Milliseconds since the Unix epoch.
    public var issuedAt: Int64
    public var expiresAt: Int64
    /// The grants this one descends from, root first (empty for a root grant); the last is its
    /// parent. Carried in the token so revoking any ancestor is seen without a lookup.
    public var ancestors: [String]
    /// The grant this one was delegated from (nil for a root grant).
    public var parentID: String? { self.ancestors.last }
    /// 0 for a root grant.
    public var depth: Int
    /// `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key the grant is bound to.
    public var keyThumbprint: String
    /// `may_act`: who may be given a delegated grant from this one (nil: anyone the policy allows).
    public var mayAct: Set<SPIFFEID>?

    public init(
        id: String, taskID: String, subject: SPIFFEID, actors: [SPIFFEID] = [], audience: Set<String>, intent: String,
        scope: GrantScope, issuedAt: Int64, expiresAt: Int64, ancestors: [String] = [], depth: Int = 0, keyThumbprint: String,
        mayAct: Set<SPIFFEID>? = nil
    ) {
        self.id = id
        self.taskID = taskID
        self.subject = subject
        self.actors = actors
        self.audience = audience
        self.intent = intent
        self.scope = scope
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.ancestors = ancestors
        self.depth = depth
        self.keyThumbprint = keyThumbprint
        self.mayAct = mayAct
    }

    /// The identity currently holding the grant: the latest actor, else the subject.
    public var holder: SPIFFEID { self.actors.first ?? self.subject }
}
