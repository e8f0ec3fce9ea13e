import ArgumentParser
import LatchCore
import LatchGrants
import LatchIdentity
import LatchServer

/// How grants are printed and revoked by `latch grant`.
enum GrantOutput {
    /// Each grant with its status: `active`, `expired`, or the reason of the revocation of it or
    /// of the closest ancestor revoked (`revoked`, `completed`, `revoked (ancestor ID)`).
    static func withStatus(_ grants: [TaskGrant], store: any LatchStore, now: Int64) async throws -> [(TaskGrant, String)] {
        var known: [String: GrantRevocation?] = [:]
        var out: [(TaskGrant, String)] = []
        for grant in grants {
            var status = grant.expiresAt <= now ? "expired" : "active"
            for id in [grant.id] + grant.ancestors.reversed() {
                if known[id] == nil { known[id] = .some(try await store.revocation(grantID: id)) }
                if let revocation = known[id] ?? nil {
                    status = revocation.reason.rawValue + (id == grant.id ? "" : " (ancestor \(id))")
                    break
                }
            }
            out.append((grant, status))
        }
        return out
    }

    static func json(_ grant: TaskGrant, status: String) -> JSONValue {
        var object = grant.claims(issuer: "").objectValue ?? [:]
        object["iss"] = nil
        object["status"] = .string(status)
        object["issued_at"] = .int(grant.issuedAt)
        object["expires_at"] = .int(grant.expiresAt)
        return .object(object)
    }

    static func json(_ task: GrantTask) -> JSONValue {
        var object: [String: JSONValue] = [
            "task_id": .string(task.taskID), "subject": .string(task.subject.description), "intent": .string(task.intent),
            "root_grant_id": .string(task.rootGrantID), "created_at": .int(task.createdAt), "expires_at": .int(task.expiresAt),
        ]
        if let ended = task.endedAt { object["ended_at"] = .int(ended) }
        if let reason = task.endReason { object["end_reason"] = .string(reason.rawValue) }
        return .object(object)
    }

    /// The task's grants nested by delegation: `{id, holder, depth, status, children: […]}` from the root.
    static func tree(_ family: [(TaskGrant, String)]) -> JSONValue {
        func node(_ entry: (TaskGrant, String)) -> JSONValue {
            let children = family.filter { $0.0.parentID == entry.0.id }
            return .object([
                "id": .string(entry.0.id), "holder": .string(entry.0.holder.description), "depth": .int(Int64(entry.0.depth)),
                "status": .string(entry.1), "children": .array(children.map(node)),
            ])
        }
        return .array(family.filter { $0.0.parentID == nil }.map(node))
    }

    static func table(_ rows: [(TaskGrant, String)]) -> String {
        let cells = [["ID", "TASK", "HOLDER", "DEPTH", "EXPIRES", "STATUS"]]
            + rows.map { grant, status in
                [grant.id, grant.taskID, grant.holder.description, String(grant.depth), String(grant.expiresAt / 1000), status]
            }
        let widths = (0..<5).map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { row in
            (0..<5).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  " + row[5] + "\n"
        }.joined()
    }

    /// Revokes the grant `id` (or, for `latch grant complete`, the root grant of task `id`) and
    /// prints the revocation as JSON.
    static func revoke(_ id: String, reason: RevocationReason, options: ServerOptions) async throws {
        let now = SystemWallClock().now().milliseconds
        let result: JSONValue? = try await options.withStore { store in
            var target = try await store.grant(id: id)
            if target == nil, reason == .completed, let task = try await store.task(id: id) {
                target = try await store.grant(id: task.rootGrantID)
            }
            guard let grant = target else { return nil }
            let new = try await store.revoke([GrantRevocation(grantID: grant.id, reason: reason, revokedAt: now, expiresAt: grant.expiresAt)])
            var recorded = new.first
            if recorded == nil { recorded = try await store.revocation(grantID: grant.id) }
            let descendants = try await store.grants(taskID: grant.taskID).filter { $0.ancestors.contains(grant.id) }.count
            return .object([
                "grant_id": .string(grant.id), "task_id": .string(grant.taskID),
                "reason": .string(recorded?.reason.rawValue ?? reason.rawValue), "already_revoked": .bool(new.isEmpty),
                "descendants": .int(Int64(descendants)),
            ])
        }
        guard let result else {
            PolicyCommand.writeError("error: no grant \(reason == .completed ? "or task " : "")\(id)")
            throw ExitCode(1)
        }
        print(result.serialized)
    }
}
