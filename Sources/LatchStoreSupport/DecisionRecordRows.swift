public import LatchCore
public import LatchGateway
import LatchIdentity

/// A decision record as both stores write it: the canonical JSON of the whole record, and copies
/// of the fields queries filter and sort on.
///
/// The copies are for SQL only; `record` is what is read back. In `agent`, `tool`, `reason` and
/// `trace_id` a U+0000 (which PostgreSQL's `text` cannot hold, and which an agent may put in a tool name)
/// becomes U+FFFD; the JSON keeps it (escaped), so the record is exact.
public struct DecisionRecordRow: Hashable, Sendable {
    public var id: String
    public var time: Int64
    public var taskID: String
    public var grantID: String
    public var agent: String
    public var tool: String?
    /// 1 when allowed, 0 when denied.
    public var allowed: Int64
    public var reason: String?
    /// The W3C trace ID (column added by migration 8).
    public var traceID: String?
    /// ``DecisionRecord/json``, serialized.
    public var record: String

    public init(_ record: DecisionRecord) {
        self.init(record, json: String(decoding: record.canonicalJSON, as: UTF8.self))
    }

    /// The row of an encoded record (its canonical JSON already written).
    public init(_ encoded: EncodedDecisionRecord) {
        self.init(encoded.record, json: encoded.json)
    }

    init(_ record: DecisionRecord, json: String) {
        self.id = record.id
        self.time = record.time
        self.taskID = record.taskID
        self.grantID = record.grantID
        self.agent = Self.column(record.agent)
        self.tool = record.tool.map(Self.column)
        self.allowed = record.allowed ? 1 : 0
        self.reason = record.reason.map(Self.column)
        self.traceID = record.traceID.map(Self.column)
        self.record = json
    }

    public init(
        id: String, time: Int64, taskID: String, grantID: String, agent: String, tool: String?, allowed: Int64, reason: String?,
        traceID: String?, record: String
    ) {
        self.id = id
        self.time = time
        self.taskID = taskID
        self.grantID = grantID
        self.agent = agent
        self.tool = tool
        self.allowed = allowed
        self.reason = reason
        self.traceID = traceID
        self.record = record
    }

    /// `text` as a text column holds it: U+0000 as U+FFFD (for filter values too).
    public static func column(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : Character($0) })
    }
}

/// Reading decision records back, and the SQL both stores share.
///
/// A stored row whose JSON does not decode, or whose columns disagree with its JSON (a row edited
/// by hand, a damaged file), is reported as `internalError` naming the row, not skipped or
/// patched: an audit listing that silently drops or changes records would lie.
public enum DecisionRecordRows {
    /// Columns selected by every query, in ``DecisionRecordRow/init(id:time:taskID:grantID:agent:tool:allowed:reason:traceID:record:)`` order.
    public static let columns = "id, time, task_id, grant_id, agent, tool, allowed, reason, trace_id, record"

    /// The record a stored row holds.
    public static func record(_ row: DecisionRecordRow) throws(LatchError) -> DecisionRecord {
        guard let json = JSONValue(parsing: row.record.utf8) else {
            throw LatchError(.internalError, "stored decision record \(row.id) is not valid JSON")
        }
        let record: DecisionRecord
        do {
            record = try DecisionRecord(json: json)
        } catch {
            throw LatchError(.internalError, "stored decision record \(row.id) is invalid: \(error.message)")
        }
        guard DecisionRecordRow(record, json: row.record) == row else {
            throw LatchError(.internalError, "stored decision record \(row.id) has columns that disagree with its JSON")
        }
        return record
    }
}

extension StoreValidation {
    /// A batch of decision records: IDs, task IDs and grant IDs are identifiers, and no record ID
    /// appears twice (a `conflict`, as one already stored is).
    public static func validate(_ records: [EncodedDecisionRecord]) throws(LatchError) {
        var ids = Set<String>()
        ids.reserveCapacity(records.count)
        for encoded in records {
            let record = encoded.record
            try Self.identifier(record.id, "decision record id")
            try Self.identifier(record.taskID, "decision record \(record.id): task id")
            try Self.identifier(record.grantID, "decision record \(record.id): grant id")
            guard ids.insert(record.id).inserted else {
                throw LatchError(.conflict, "decision record \(record.id) appears twice in one batch")
            }
        }
    }
}

/// A ``DecisionRecordQuery`` as SQL both stores run: the conditions with their values in order
/// (each `?` a parameter; PostgreSQL numbers them), the order and the limit.
public struct DecisionRecordQuerySQL: Sendable {
    public enum Value: Sendable, Hashable {
        case text(String)
        case int(Int64)
    }

    /// `WHERE …` (empty when nothing filters), with `?` for each value.
    public let whereClause: String
    public let values: [Value]
    /// `ORDER BY time …, id …`.
    public let orderClause: String
    public let limit: Int64

    public init(_ query: DecisionRecordQuery) {
        var conditions: [String] = []
        var values: [Value] = []
        let text: [(String, String?)] = [
            ("agent", query.agent.map(DecisionRecordRow.column)), ("task_id", query.taskID), ("grant_id", query.grantID),
            ("tool", query.tool.map(DecisionRecordRow.column)), ("reason", query.reason.map(DecisionRecordRow.column)),
            ("trace_id", query.traceID.map(DecisionRecordRow.column)),
        ]
        for case (let column, let value?) in text {
            conditions.append("\(column) = ?")
            values.append(.text(value))
        }
        // A grant's records are found through the task index (migration 13): in the grant's tasks.
        if let grantID = query.grantID, query.taskID == nil {
            conditions.append("task_id IN (SELECT task_id FROM decision_record_grants WHERE grant_id = ?)")
            values.append(.text(grantID))
        }
        if let allowed = query.allowed {
            conditions.append("allowed = ?")
            values.append(.int(allowed ? 1 : 0))
        }
        if let since = query.since {
            conditions.append("time >= ?")
            values.append(.int(since))
        }
        if let until = query.until {
            conditions.append("time < ?")
            values.append(.int(until))
        }
        let descending = query.order == .newestFirst
        if let after = query.after {
            conditions.append("(time, id) \(descending ? "<" : ">") (?, ?)")
            values += [.int(after.time), .text(after.id)]
        }
        self.whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        self.values = values
        self.orderClause = descending ? "ORDER BY time DESC, id DESC" : "ORDER BY time, id"
        self.limit = Int64(max(0, query.limit))
    }

    /// The whole statement, `?` for every parameter (the limit last).
    public var statement: String {
        "SELECT \(DecisionRecordRows.columns), leaf_index FROM decision_records \(self.whereClause) \(self.orderClause) LIMIT ?"
    }
}
