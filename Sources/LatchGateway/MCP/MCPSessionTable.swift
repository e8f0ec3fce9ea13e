import Crypto
import LatchCore
public import LatchGrants
import LatchIdentity
import Synchronization

/// A 2025-11-25 session (`Mcp-Session-Id`), bound to the task and agent whose grant opened it:
/// another grant presenting the ID is told the session does not exist.
struct MCPSession: Sendable {
    let taskID: String
    let holder: String
    let protocolVersion: String
    var lastUsed: Int64
}

/// The live 2025-11-25 sessions of this node. 2026-07-28 requests need none.
final class MCPSessionTable: Sendable {
    private let sessions = Mutex<[String: MCPSession]>([:])
    let idleTimeout: Int64
    let capacity: Int

    init(idleTimeout: Int64, capacity: Int) {
        self.idleTimeout = idleTimeout
        self.capacity = max(1, capacity)
    }

    /// Opens a session for `grant`'s task and holder; returns its ID (128 random bits, hex).
    func open(grant: TaskGrant, protocolVersion: String, now: Int64) -> String {
        let id = hexString(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) })
        let session = MCPSession(taskID: grant.taskID, holder: grant.holder.description, protocolVersion: protocolVersion, lastUsed: now)
        self.sessions.withLock { sessions in
            if sessions.count >= self.capacity {
                sessions = sessions.filter { now - $0.value.lastUsed < self.idleTimeout }
                if sessions.count >= self.capacity, let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                    sessions[oldest.key] = nil
                }
            }
            sessions[id] = session
        }
        return id
    }

    /// The session, touched, when it exists, is not idle past its timeout, and belongs to this
    /// grant's task and holder.
    func use(_ id: String, grant: TaskGrant, now: Int64) -> MCPSession? {
        self.sessions.withLock { sessions in
            guard var session = sessions[id] else { return nil }
            guard now - session.lastUsed < self.idleTimeout else {
                sessions[id] = nil
                return nil
            }
            guard session.taskID == grant.taskID, session.holder == grant.holder.description else { return nil }
            session.lastUsed = now
            sessions[id] = session
            return session
        }
    }

    /// Ends the session if it belongs to this grant's task and holder.
    func end(_ id: String, grant: TaskGrant) {
        self.sessions.withLock { sessions in
            if let session = sessions[id], session.taskID == grant.taskID, session.holder == grant.holder.description { sessions[id] = nil }
        }
    }
}
