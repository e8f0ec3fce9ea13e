public import LatchIdentity

/// One record per decision the gateway made, allowed or denied: who (agent, delegation chain,
/// grant, task), what (tool, argument digest, prompt digest), the decision and its policies,
/// what happened upstream, and how long it took. The audit ledger (ARCHITECTURE.md, "Audit")
/// chains these records; here they are plain values.
public struct DecisionRecord: Hashable, Sendable {
    /// Random, unique: the `decision_id` an agent sees in a denial.
    public var id: String
    /// Milliseconds since the epoch, when the request arrived.
    public var time: Int64
    public var taskID: String
    public var grantID: String
    /// The agent holding the grant (SPIFFE ID).
    public var agent: String
    /// The task's owner (the grant's `sub`).
    public var subject: String
    /// The delegation chain, most recent actor first.
    public var actors: [String]
    /// The MCP method (`tools/call`, `tools/list`).
    public var method: String
    /// The namespaced tool, when the method names one.
    public var tool: String?
    /// Lowercase hex SHA-256 of the call's arguments in canonical JSON.
    public var argumentsDigest: String?
    /// Lowercase hex SHA-256 of the prompt the agent attached (`_meta["dev.latch/prompt"]`).
    public var promptDigest: String?
    /// The prompt itself, only when the gateway is configured to keep prompts.
    public var prompt: String?
    public var allowed: Bool
    /// The ``DenialReason`` code when denied.
    public var reason: String?
    public var message: String?
    public var policies: [String]
    public var policyErrors: [String]
    public var destination: String?
    /// `ok`, `tool_error` (the upstream answered `isError`), `rpc_error`, `unavailable`; nil
    /// when nothing was forwarded.
    public var upstreamOutcome: String?
    /// The W3C trace ID the call carried or was given.
    public var traceID: String?
    /// Microseconds from arrival to answer.
    public var latencyMicros: Int64

    public init(
        id: String, time: Int64, taskID: String, grantID: String, agent: String, subject: String, actors: [String], method: String,
        tool: String? = nil, argumentsDigest: String? = nil, promptDigest: String? = nil, prompt: String? = nil, allowed: Bool,
        reason: String? = nil, message: String? = nil, policies: [String] = [], policyErrors: [String] = [], destination: String? = nil,
        upstreamOutcome: String? = nil, traceID: String? = nil, latencyMicros: Int64 = 0
    ) {
        self.id = id
        self.time = time
        self.taskID = taskID
        self.grantID = grantID
        self.agent = agent
        self.subject = subject
        self.actors = actors
        self.method = method
        self.tool = tool
        self.argumentsDigest = argumentsDigest
        self.promptDigest = promptDigest
        self.prompt = prompt
        self.allowed = allowed
        self.reason = reason
        self.message = message
        self.policies = policies
        self.policyErrors = policyErrors
        self.destination = destination
        self.upstreamOutcome = upstreamOutcome
        self.traceID = traceID
        self.latencyMicros = latencyMicros
    }

    /// The record as canonical JSON (sorted keys; absent fields left out).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(self.id), "time": .int(self.time), "task_id": .string(self.taskID), "grant_id": .string(self.grantID),
            "agent": .string(self.agent), "subject": .string(self.subject), "actors": .array(self.actors.map(JSONValue.string)),
            "method": .string(self.method), "allowed": .bool(self.allowed), "policies": .array(self.policies.map(JSONValue.string)),
            "policy_errors": .array(self.policyErrors.map(JSONValue.string)), "latency_us": .int(self.latencyMicros),
        ]
        let optional: [(String, String?)] = [
            ("tool", self.tool), ("arguments_sha256", self.argumentsDigest), ("prompt_sha256", self.promptDigest), ("prompt", self.prompt),
            ("reason", self.reason), ("message", self.message), ("destination", self.destination), ("upstream", self.upstreamOutcome),
            ("trace_id", self.traceID),
        ]
        for case (let key, let value?) in optional { object[key] = .string(value) }
        return .object(object)
    }
}

/// Where decision records go. ``record(_:)`` returns once the record is durable; a gateway
/// whose recorder fails answers the call with an error (fail closed).
public protocol DecisionRecorder: Sendable {
    func record(_ record: DecisionRecord) async throws
}

/// Where decision records are kept: implemented by every store (SQLite, PostgreSQL, in memory).
public protocol DecisionRecordRepository: Sendable {
    /// Stores the records in one transaction; returns once they are durable. A record whose ID
    /// is already stored is an error, and then none of the batch is stored.
    func saveDecisionRecords(_ records: [DecisionRecord]) async throws
    /// Records, newest first (by time, then ID), optionally only one task's, at most `limit`.
    func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord]
}
