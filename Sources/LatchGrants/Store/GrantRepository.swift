public import LatchCore

/// Why a grant stopped being valid before its expiry.
public enum RevocationReason: String, Hashable, Sendable, CaseIterable {
    /// Revoked by an operator (`latch grant revoke`) or through the RFC 7009 endpoint.
    case revoked
    /// The task was declared done (the completion endpoint, `latch grant complete`).
    case completed
    /// The gateway's guard tripped the kill switch on the task.
    case killed
}

/// A revocation as persisted. It names one grant; every grant descending from it is revoked too,
/// because a grant carries its ancestors (``TaskGrant/ancestors``) and verification checks them.
public struct GrantRevocation: Hashable, Sendable {
    public var grantID: String
    public var reason: RevocationReason
    /// Milliseconds since the Unix epoch.
    public var revokedAt: Int64
    /// The revoked grant's expiry: after it the row is no longer needed (nothing it covers verifies).
    public var expiresAt: Int64

    public init(grantID: String, reason: RevocationReason, revokedAt: Int64, expiresAt: Int64) {
        self.grantID = grantID
        self.reason = reason
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
    }
}

/// A task: what a root grant was issued for, read from that grant and its revocation (the stores
/// keep no separate row). Its grants share its ID (``TaskGrant/taskID``).
public struct GrantTask: Hashable, Sendable {
    public var taskID: String
    public var subject: SPIFFEID
    public var intent: String
    public var rootGrantID: String
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64
    public var expiresAt: Int64
    /// When the task ended early (completed or revoked), and why; nil while it runs or once it expired.
    public var endedAt: Int64?
    public var endReason: RevocationReason?

    public init(
        taskID: String, subject: SPIFFEID, intent: String, rootGrantID: String, createdAt: Int64, expiresAt: Int64,
        endedAt: Int64? = nil, endReason: RevocationReason? = nil
    ) {
        self.taskID = taskID
        self.subject = subject
        self.intent = intent
        self.rootGrantID = rootGrantID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.endReason = endReason
    }
}

/// A grant as the stores write it: the grant, and its claims as canonical JSON
/// (``TaskGrant/claimsJSON(issuer:)``), which is what they read it back from.
///
/// Issuance hands the stores the very bytes its token signed (``GrantToken/mintRecorded(_:issuer:key:)``)
/// rather than having them serialize the claims a second time; their `iss` is then the issuer's.
/// A grant saved without a token has an empty `iss`. Reading back ignores `iss`.
public struct GrantRecord: Sendable {
    public let grant: TaskGrant
    public let claims: [UInt8]

    /// The record of a grant saved without a token.
    public init(_ grant: TaskGrant) {
        self.init(grant: grant, claims: grant.claimsJSON(issuer: ""))
    }

    /// `claims` must be `grant.claimsJSON(issuer:)` for some issuer.
    init(grant: TaskGrant, claims: [UInt8]) {
        self.grant = grant
        self.claims = claims
    }
}

/// Where grants, tasks and revocations live (SQLite and PostgreSQL implement it; the conformance
/// suite in LatchTesting says what each must do).
///
/// Nothing here is on the verification hot path: verifiers keep revocations in memory
/// (``RevocationIndex``), filled from ``revocations(notExpiredAt:)`` at start and refreshed when
/// ``revocationsRevision()`` moves.
public protocol GrantRepository: Sendable {
    /// Inserts grants in one transaction; a root grant (depth 0) starts its task. Durable when it
    /// returns; all or nothing. A grant ID already stored, or a second root for a task, fails the
    /// whole call (`conflict`).
    func saveGrants(_ records: [GrantRecord]) async throws
    func grant(id: String) async throws -> TaskGrant?
    /// The grants of a task, in issue order (the root first).
    func grants(taskID: String) async throws -> [TaskGrant]
    /// Up to `limit` grants, newest first; with `activeAt`, only those unexpired then.
    func listGrants(activeAt: Int64?, limit: Int) async throws -> [TaskGrant]
    func task(id: String) async throws -> GrantTask?

    /// Records revocations in one transaction and bumps the revision counter. Idempotent: a grant
    /// already revoked keeps its first revocation. A task ends (`endedAt`, `endReason`) with the
    /// first revocation of its root grant. Returns the revocations that were new.
    func revoke(_ revocations: [GrantRevocation]) async throws -> [GrantRevocation]
    func revocation(grantID: String) async throws -> GrantRevocation?
    /// Revocations of grants that have not expired at `now`.
    func revocations(notExpiredAt now: Int64) async throws -> [GrantRevocation]
    /// Revocations recorded by ``revoke(_:)`` calls that moved ``revocationsRevision()`` past
    /// `revision` (each such call's revocations carry the revision it set): what a node that last
    /// saw `revision` has not loaded yet, without reading the rest.
    func revocations(afterRevision revision: Int64) async throws -> [GrantRevocation]
    /// A counter shared by every handle on the same storage that grows in the same transaction as
    /// every ``revoke(_:)`` that recorded something new.
    func revocationsRevision() async throws -> Int64

    /// Deletes grants (and so their tasks) and revocations whose expiry is before `before`;
    /// returns how many grants and revocations.
    func deleteExpiredGrants(before: Int64) async throws -> Int
}

extension GrantRepository {
    /// Saves grants that have no token (tools, tests): their records' claims are written here, `iss` empty.
    public func saveGrants(_ grants: [TaskGrant]) async throws {
        try await self.saveGrants(grants.map(GrantRecord.init))
    }
}
