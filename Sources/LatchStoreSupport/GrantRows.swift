public import LatchCore
public import LatchGrants
import LatchIdentity

/// Turning grant, task and revocation rows back into values, and the SQL both stores share.
///
/// A stored value that no longer decodes (claims or a SPIFFE ID edited by hand, a reason this
/// version does not know) is reported as `internalError` naming the row, not skipped: silently
/// dropping a revocation would make a revoked grant verify again.
public enum GrantRows {
    /// Columns selected by every grant query, in ``grant(id:claims:issuedAt:expiresAt:)`` order.
    public static let columns = "id, claims, issued_at, expires_at"
    /// Columns selected by every task query, in ``task(taskID:claims:rootGrantID:createdAt:expiresAt:endedAt:endReason:)`` order.
    public static let taskColumns = "task_id, claims, root_grant_id, created_at, expires_at, ended_at, end_reason"
    /// Columns selected by every revocation query, in ``revocation(grantID:reason:revokedAt:expiresAt:)`` order.
    public static let revocationColumns = "grant_id, reason, revoked_at, expires_at"

    /// The task a root grant starts (nil for a delegated grant): created when the root is issued,
    /// expiring with it.
    public static func task(rootedAt grant: TaskGrant) -> GrantTask? {
        guard grant.depth == 0 else { return nil }
        return GrantTask(
            taskID: grant.taskID, subject: grant.subject, intent: grant.intent, rootGrantID: grant.id, createdAt: grant.issuedAt,
            expiresAt: grant.expiresAt)
    }

    /// A grant from its stored claims, with the millisecond times of its columns.
    public static func grant(id: String, claims: String, issuedAt: Int64, expiresAt: Int64) throws(LatchError) -> TaskGrant {
        guard let json = JSONValue(parsing: claims.utf8) else {
            throw LatchError(.internalError, "stored grant \(id) has claims that are not valid JSON")
        }
        var grant: TaskGrant
        do {
            grant = try TaskGrant(claims: json)
        } catch {
            throw LatchError(.internalError, "stored grant \(id) has invalid claims: \(error.message)")
        }
        guard grant.id == id else {
            throw LatchError(.internalError, "stored grant \(id) has claims of another grant (\(grant.id))")
        }
        grant.issuedAt = issuedAt
        grant.expiresAt = expiresAt
        return grant
    }

    /// A task from its root grant's row: subject and intent from the grant's claims (checked as
    /// ``grant(id:claims:issuedAt:expiresAt:)`` checks them), the end from its revocation.
    public static func task(
        taskID: String, claims: String, rootGrantID: String, createdAt: Int64, expiresAt: Int64, endedAt: Int64?, endReason: String?
    ) throws(LatchError) -> GrantTask {
        let root = try Self.grant(id: rootGrantID, claims: claims, issuedAt: createdAt, expiresAt: expiresAt)
        guard root.taskID == taskID else {
            throw LatchError(.internalError, "stored task \(taskID) has a root grant of another task (\(root.taskID))")
        }
        var reason: RevocationReason?
        if let endReason {
            guard let known = RevocationReason(rawValue: endReason) else {
                throw LatchError(.internalError, "stored task \(taskID) has an unknown end reason \"\(endReason)\"")
            }
            reason = known
        }
        return GrantTask(
            taskID: taskID, subject: root.subject, intent: root.intent, rootGrantID: rootGrantID, createdAt: createdAt,
            expiresAt: expiresAt, endedAt: endedAt, endReason: reason)
    }

    public static func revocation(grantID: String, reason: String, revokedAt: Int64, expiresAt: Int64) throws(LatchError) -> GrantRevocation {
        guard let known = RevocationReason(rawValue: reason) else {
            throw LatchError(.internalError, "stored revocation of grant \(grantID) has an unknown reason \"\(reason)\"")
        }
        return GrantRevocation(grantID: grantID, reason: known, revokedAt: revokedAt, expiresAt: expiresAt)
    }
}
