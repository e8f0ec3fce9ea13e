public import LatchAudit
public import LatchCore
public import LatchIdentity

/// One record per decision the gateway made, allowed or denied: who (agent, delegation chain,
/// grant, task), what (tool, keyed hashes of the arguments and the prompt), the decision, its
/// policies and the facts it saw, what happened upstream, and how long it took. The audit ledger
/// (ARCHITECTURE.md, "Audit") chains these records; here they are plain values.
///
/// - Important: a record never holds a prompt or an argument value in clear: only keyed hashes
///   and, when configured, sealed copies (``RecordPrivacy``).
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
    /// Keyed hash (``RecordPrivacy/argumentsHMAC(_:)``) of the call's arguments in canonical JSON.
    public var argumentsHMAC: String?
    /// Keyed hashes of the selected arguments' values (the tool's destination argument and its
    /// `audit_arguments` label), by argument name; empty: none.
    public var argumentHMACs: [String: String]
    /// The canonical arguments, sealed (``RecordPrivacy/sealArguments(_:recordID:)``), only when
    /// the gateway keeps arguments (`gateway_keep_arguments`).
    public var argumentsSealed: String?
    /// Keyed hash of the prompt the agent attached (`_meta["dev.latch/prompt"]`).
    public var promptHMAC: String?
    /// The prompt, sealed, only when the gateway keeps prompts (`gateway_keep_prompts`).
    public var promptSealed: String?
    public var allowed: Bool
    /// The ``DenialReason`` code when denied.
    public var reason: String?
    public var message: String?
    public var policies: [String]
    public var policyErrors: [String]
    public var destination: String?
    /// `forwarded` on the decision record of a call sent upstream; on its outcome record `ok`,
    /// `tool_error` (the upstream answered `isError`), `rpc_error` or `unavailable`; nil when
    /// nothing was forwarded.
    public var upstreamOutcome: String?
    /// The W3C trace ID the call carried or was given.
    public var traceID: String?
    /// Microseconds from arrival to this record: the decision alone for a decision record, the
    /// whole call for an outcome record.
    public var latencyMicros: Int64
    /// On an outcome record, the ID of the decision record it completes; nil on a decision.
    ///
    /// A call that is forwarded gets two records: its decision, stored before anything is sent
    /// upstream (`upstream: "forwarded"`), and its outcome once the upstream answered (or not).
    public var decisionID: String?
    /// On a decision record that was put to policies: the facts the decision saw besides the
    /// grant, tool and arguments (what `latch policy replay` needs); nil on outcome records.
    public var facts: DecisionFacts?
    /// The approval the call named (`_meta["dev.latch/approval"]`) or, for a held call, the
    /// one created for it.
    public var approvalID: String?

    public init(
        id: String, time: Int64, taskID: String, grantID: String, agent: String, subject: String, actors: [String], method: String,
        tool: String? = nil, argumentsHMAC: String? = nil, argumentHMACs: [String: String] = [:], argumentsSealed: String? = nil,
        promptHMAC: String? = nil, promptSealed: String? = nil, allowed: Bool, reason: String? = nil, message: String? = nil,
        policies: [String] = [], policyErrors: [String] = [], destination: String? = nil, upstreamOutcome: String? = nil,
        traceID: String? = nil, latencyMicros: Int64 = 0, decisionID: String? = nil, facts: DecisionFacts? = nil,
        approvalID: String? = nil
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
        self.argumentsHMAC = argumentsHMAC
        self.argumentHMACs = argumentHMACs
        self.argumentsSealed = argumentsSealed
        self.promptHMAC = promptHMAC
        self.promptSealed = promptSealed
        self.allowed = allowed
        self.reason = reason
        self.message = message
        self.policies = policies
        self.policyErrors = policyErrors
        self.destination = destination
        self.upstreamOutcome = upstreamOutcome
        self.traceID = traceID
        self.latencyMicros = latencyMicros
        self.decisionID = decisionID
        self.facts = facts
        self.approvalID = approvalID
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
            ("tool", self.tool), ("arguments_hmac", self.argumentsHMAC), ("arguments_sealed", self.argumentsSealed),
            ("prompt_hmac", self.promptHMAC), ("prompt_sealed", self.promptSealed), ("reason", self.reason), ("message", self.message), ("destination", self.destination), ("upstream", self.upstreamOutcome),
            ("trace_id", self.traceID), ("decision_id", self.decisionID),
            ("approval_id", self.approvalID),
        ]
        for case (let key, let value?) in optional { object[key] = .string(value) }
        if !self.argumentHMACs.isEmpty { object["argument_hmacs"] = .object(self.argumentHMACs.mapValues(JSONValue.string)) }
        if let facts = self.facts { object["facts"] = facts.json }
        return .object(object)
    }

    /// The record's RFC 8785 bytes, written directly: exactly `json.serializedBytes` (the ledger
    /// leaf, its hash and MAC are over these bytes), without building and sorting a ``JSONValue``
    /// first. Members are written in RFC 8785 order, which for these ASCII keys is byte order;
    /// `argument_hmacs`, whose names are the tool's, is sorted as ``JSONValue`` sorts.
    public var canonicalJSON: [UInt8] {
        var writer = CanonicalObjectWriter(capacity: 1_024)
        writer.strings("actors", self.actors)
        writer.string("agent", self.agent)
        writer.bool("allowed", self.allowed)
        writer.string("approval_id", self.approvalID)
        if !self.argumentHMACs.isEmpty {
            writer.open("argument_hmacs")
            for (name, value) in self.argumentHMACs.sorted(by: { CanonicalJSON.keyPrecedes($0.key, $1.key) }) {
                writer.string(name, value)
            }
            writer.close()
        }
        writer.string("arguments_hmac", self.argumentsHMAC)
        writer.string("arguments_sealed", self.argumentsSealed)
        writer.string("decision_id", self.decisionID)
        writer.string("destination", self.destination)
        if let facts = self.facts {
            writer.open("facts")
            facts.write(into: &writer)
            writer.close()
        }
        writer.string("grant_id", self.grantID)
        writer.string("id", self.id)
        writer.int("latency_us", self.latencyMicros)
        writer.string("message", self.message)
        writer.string("method", self.method)
        writer.strings("policies", self.policies)
        writer.strings("policy_errors", self.policyErrors)
        writer.string("prompt_hmac", self.promptHMAC)
        writer.string("prompt_sealed", self.promptSealed)
        writer.string("reason", self.reason)
        writer.string("subject", self.subject)
        writer.string("task_id", self.taskID)
        writer.int("time", self.time)
        writer.string("tool", self.tool)
        writer.string("trace_id", self.traceID)
        writer.string("upstream", self.upstreamOutcome)
        return writer.finish()
    }

    /// Reads a record back from its ``json``, strictly: every field it always writes present with
    /// its type (integers as JSON integers, lists of strings), the optional fields absent or
    /// strings, and no other key. A stored record that was damaged or altered is an
    /// `invalidInput` error naming the key at fault, never a record with fields missing.
    ///
    /// Invariant: `DecisionRecord(json: record.json) == record` for every record.
    public init(json: JSONValue) throws(LatchError) {
        guard case .object(let object) = json else { throw LatchError(.invalidInput, "a decision record must be a JSON object") }
        let fields = Fields(object: object)
        if let unknown = object.keys.filter({ !Self.keys.contains($0) }).sorted().first {
            throw LatchError(.invalidInput, "a decision record has an unknown key \"\(unknown.prefix(64))\"")
        }
        self.init(
            id: try fields.string("id"), time: try fields.int("time"), taskID: try fields.string("task_id"),
            grantID: try fields.string("grant_id"), agent: try fields.string("agent"), subject: try fields.string("subject"),
            actors: try fields.strings("actors"), method: try fields.string("method"), tool: try fields.optionalString("tool"),
            argumentsHMAC: try fields.optionalString("arguments_hmac"), argumentHMACs: try fields.stringMap("argument_hmacs"),
            argumentsSealed: try fields.optionalString("arguments_sealed"), promptHMAC: try fields.optionalString("prompt_hmac"),
            promptSealed: try fields.optionalString("prompt_sealed"), allowed: try fields.bool("allowed"), reason: try fields.optionalString("reason"),
            message: try fields.optionalString("message"), policies: try fields.strings("policies"),
            policyErrors: try fields.strings("policy_errors"), destination: try fields.optionalString("destination"),
            upstreamOutcome: try fields.optionalString("upstream"), traceID: try fields.optionalString("trace_id"),
            latencyMicros: try fields.int("latency_us"), decisionID: try fields.optionalString("decision_id"),
            facts: try object["facts"].map { value throws(LatchError) in try DecisionFacts(json: value) },
            approvalID: try fields.optionalString("approval_id"))
    }

    /// Every key ``json`` may write.
    private static let keys: Set<String> = [
        "id", "time", "task_id", "grant_id", "agent", "subject", "actors", "method", "allowed", "policies", "policy_errors", "latency_us",
        "tool", "arguments_hmac", "argument_hmacs", "arguments_sealed", "prompt_hmac", "prompt_sealed", "reason", "message", "destination",
        "upstream", "trace_id", "decision_id", "facts", "approval_id",
    ]

    /// Typed access to a record's JSON object; errors name the key, never its value (a prompt may
    /// be confidential).
    private struct Fields {
        let object: [String: JSONValue]

        func string(_ key: String) throws(LatchError) -> String {
            guard case .string(let value)? = self.object[key] else { throw Self.error(key, "a string") }
            return value
        }

        func optionalString(_ key: String) throws(LatchError) -> String? {
            switch self.object[key] {
            case nil: return nil
            case .string(let value)?: return value
            default: throw Self.error(key, "a string when present")
            }
        }

        /// An object of strings; absent: empty. Present and empty is not what ``json`` writes.
        func stringMap(_ key: String) throws(LatchError) -> [String: String] {
            guard let value = self.object[key] else { return [:] }
            guard case .object(let members) = value, !members.isEmpty else { throw Self.error(key, "a non-empty object of strings when present") }
            var strings: [String: String] = [:]
            for (name, member) in members {
                guard case .string(let string) = member else { throw Self.error(key, "a non-empty object of strings when present") }
                strings[name] = string
            }
            return strings
        }

        func int(_ key: String) throws(LatchError) -> Int64 {
            guard case .int(let value)? = self.object[key] else { throw Self.error(key, "an integer") }
            return value
        }

        func bool(_ key: String) throws(LatchError) -> Bool {
            guard case .bool(let value)? = self.object[key] else { throw Self.error(key, "true or false") }
            return value
        }

        func strings(_ key: String) throws(LatchError) -> [String] {
            guard case .array(let values)? = self.object[key] else { throw Self.error(key, "an array of strings") }
            var strings: [String] = []
            strings.reserveCapacity(values.count)
            for value in values {
                guard case .string(let string) = value else { throw Self.error(key, "an array of strings") }
                strings.append(string)
            }
            return strings
        }

        static func error(_ key: String, _ expected: String) -> LatchError {
            LatchError(.invalidInput, "a decision record's \"\(key)\" must be \(expected)")
        }
    }
}

/// A decision record with what its ledger leaf needs before it has an index: its RFC 8785 bytes
/// (``DecisionRecord/canonicalJSON``, the text the stores keep in `record`) and their leaf hash
/// (RFC 9162). Only ``init(_:)`` makes one, so the three always agree.
public struct EncodedDecisionRecord: Hashable, Sendable {
    public let record: DecisionRecord
    /// The canonical JSON, as text.
    public let json: String
    /// `MerkleTree.leafHash` of the canonical JSON's bytes.
    public let leafHash: [UInt8]

    public init(_ record: DecisionRecord) {
        let bytes = record.canonicalJSON
        self.record = record
        self.leafHash = MerkleTree.leafHash(bytes)
        self.json = String(decoding: bytes, as: UTF8.self)
    }
}

/// Where decision records go. ``record(_:)`` returns once the record is durable; a gateway
/// whose recorder fails answers the call with an error (fail closed).
public protocol DecisionRecorder: Sendable {
    func record(_ record: DecisionRecord) async throws
}

/// Where decision records are kept: implemented by every store (SQLite, PostgreSQL, in memory).
///
/// Every stored record is a leaf of the audit ledger (`LatchAudit`): its bytes are its ``DecisionRecord/json``
/// in RFC 8785 canonical form, exactly as stored, and it gets the next ledger index.
public protocol DecisionRecordRepository: Sendable {
    /// Stores the records in one transaction and appends them to the ledger in that same
    /// transaction, in order: each gets the next index (no gaps, never reused, even with several
    /// writers), its leaf hash and its MAC under `ledgerKey`. Returns once they are durable. A
    /// record whose ID is already stored is an error, and then none of the batch is stored and
    /// no index is taken.
    ///
    /// The records come encoded (``EncodedDecisionRecord``: canonical bytes and leaf hash), so the
    /// work that needs no index is done by each caller, in parallel, before the batch is formed;
    /// The overload taking plain ``DecisionRecord``s encodes them first.
    func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws
    /// Records, newest first (by time, then ID), optionally only one task's, at most `limit`.
    func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord]
}

extension DecisionRecordRepository {
    /// Encodes the records (``EncodedDecisionRecord``) and saves them as one batch.
    public func saveDecisionRecords(_ records: [DecisionRecord], ledgerKey: LedgerKey) async throws {
        try await self.saveDecisionRecords(records.map(EncodedDecisionRecord.init), ledgerKey: ledgerKey)
    }
}
