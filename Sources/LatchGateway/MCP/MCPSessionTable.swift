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
///
/// Bounded twice: at most `capacity` sessions in all (past it, idle ones go first, then the
/// least recently used), and at most `perTask` for one task, so one agent opening sessions in a
/// loop ends its own oldest session rather than other tasks'.
final class MCPSessionTable: Sendable {
    private struct State {
        var sessions: [String: MCPSession] = [:]
        /// Sessions per task.
        var counts: [String: Int] = [:]

        mutating func remove(_ id: String) {
            guard let session = self.sessions.removeValue(forKey: id) else { return }
            let left = (self.counts[session.taskID] ?? 1) - 1
            self.counts[session.taskID] = left > 0 ? left : nil
        }

        mutating func insert(_ id: String, _ session: MCPSession) {
            self.sessions[id] = session
            self.counts[session.taskID, default: 0] += 1
        }
    }

    private let state = Mutex(State())
    let idleTimeout: Int64
    let capacity: Int
    let perTask: Int

    init(idleTimeout: Int64, capacity: Int, perTask: Int = 32) {
        self.idleTimeout = idleTimeout
        self.capacity = max(1, capacity)
        self.perTask = max(1, perTask)
    }

    /// Opens a session for `grant`'s task and holder; returns its ID (128 random bits, hex).
    func open(grant: TaskGrant, protocolVersion: String, now: Int64) -> String {
        let id = hexString(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) })
        let session = MCPSession(taskID: grant.taskID, holder: grant.holder.description, protocolVersion: protocolVersion, lastUsed: now)
        self.state.withLock { state in
            if state.counts[session.taskID] ?? 0 >= self.perTask,
                let oldest = state.sessions.filter({ $0.value.taskID == session.taskID }).min(by: { $0.value.lastUsed < $1.value.lastUsed })
            {
                state.remove(oldest.key)
            }
            if state.sessions.count >= self.capacity {
                for (key, value) in state.sessions where now - value.lastUsed >= self.idleTimeout { state.remove(key) }
                if state.sessions.count >= self.capacity, let oldest = state.sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                    state.remove(oldest.key)
                }
            }
            state.insert(id, session)
        }
        return id
    }

    /// The session, touched, when it exists, is not idle past its timeout, and belongs to this
    /// grant's task and holder.
    func use(_ id: String, grant: TaskGrant, now: Int64) -> MCPSession? {
        self.state.withLock { state in
            guard var session = state.sessions[id] else { return nil }
            guard now - session.lastUsed < self.idleTimeout else {
                state.remove(id)
                return nil
            }
            guard session.taskID == grant.taskID, session.holder == grant.holder.description else { return nil }
            session.lastUsed = now
            state.sessions[id] = session
            return session
        }
    }

    /// Ends the session if it belongs to this grant's task and holder.
    func end(_ id: String, grant: TaskGrant) {
        self.state.withLock { state in
            if let session = state.sessions[id], session.taskID == grant.taskID, session.holder == grant.holder.description { state.remove(id) }
        }
    }

    /// How many sessions are open (all, or one task's).
    func count(task: String? = nil) -> Int {
        self.state.withLock { state in task.map { state.counts[$0] ?? 0 } ?? state.sessions.count }
    }
}
