/// Which decision records to read (`latch audit query`, `trace`, `export`): every filter that is
/// set must match (nil: any), in time order, at most ``limit``.
///
/// Text filters compare exactly (by UTF-8 bytes, as IDs sort), against the copies of the fields
/// the stores keep as columns (where a U+0000 in an agent, tool or reason is stored as U+FFFD,
/// and the filter value is mapped the same way). Times are milliseconds since the epoch:
/// ``since`` inclusive, ``until`` exclusive.
public struct DecisionRecordQuery: Hashable, Sendable {
    public enum Order: String, Hashable, Sendable, CaseIterable {
        /// By time, then ID, descending (as `latch audit list`).
        case newestFirst
        /// By time, then ID, ascending (a task's story, an export).
        case oldestFirst
    }

    /// A position in the order: the records after it (in ``order``) are read next. Built from
    /// the last record of a page (``init(after:)``), so paging never skips or repeats a record.
    public struct Cursor: Hashable, Sendable {
        public var time: Int64
        public var id: String

        public init(time: Int64, id: String) {
            self.time = time
            self.id = id
        }

        public init(after record: DecisionRecord) {
            self.init(time: record.time, id: record.id)
        }
    }

    /// The agent holding the grant (SPIFFE ID).
    public var agent: String?
    public var taskID: String?
    public var grantID: String?
    public var tool: String?
    /// true: allowed only; false: denied only.
    public var allowed: Bool?
    /// The denial reason code.
    public var reason: String?
    /// Not before this time (milliseconds, inclusive).
    public var since: Int64?
    /// Before this time (milliseconds, exclusive).
    public var until: Int64?
    /// The W3C trace ID.
    public var traceID: String?
    public var order: Order
    /// Only records after this position in ``order`` (the next page).
    public var after: Cursor?
    /// At most this many (0 or less: none).
    public var limit: Int

    public init(
        agent: String? = nil, taskID: String? = nil, grantID: String? = nil, tool: String? = nil, allowed: Bool? = nil, reason: String? = nil,
        since: Int64? = nil, until: Int64? = nil, traceID: String? = nil, order: Order = .newestFirst, after: Cursor? = nil, limit: Int = 50
    ) {
        self.agent = agent
        self.taskID = taskID
        self.grantID = grantID
        self.tool = tool
        self.allowed = allowed
        self.reason = reason
        self.since = since
        self.until = until
        self.traceID = traceID
        self.order = order
        self.after = after
        self.limit = limit
    }

    /// Whether `record` passes every filter and comes after the cursor (the in-memory store's
    /// query, and the reference the SQL ones must agree with).
    public func matches(_ record: DecisionRecord) -> Bool {
        func same(_ filter: String?, _ value: String?) -> Bool {
            guard let filter else { return true }
            guard let value else { return false }
            return value.utf8.elementsEqual(filter.utf8)
        }
        guard same(self.agent, record.agent), same(self.taskID, record.taskID), same(self.grantID, record.grantID), same(self.tool, record.tool),
            same(self.reason, record.reason), same(self.traceID, record.traceID)
        else { return false }
        if let allowed = self.allowed, record.allowed != allowed { return false }
        if let since = self.since, record.time < since { return false }
        if let until = self.until, record.time >= until { return false }
        if let after = self.after {
            let position = Cursor(after: record)
            return self.order == .newestFirst ? Self.precedes(position, after) : Self.precedes(after, position)
        }
        return true
    }

    /// `a` before `b` by time, then ID (UTF-8 bytes): the oldest-first order.
    public static func precedes(_ a: Cursor, _ b: Cursor) -> Bool {
        a.time != b.time ? a.time < b.time : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}

/// A stored decision record and its place in the audit ledger.
public struct IndexedDecisionRecord: Hashable, Sendable {
    public var record: DecisionRecord
    /// The record's leaf index; nil for a record stored before the ledger existed.
    public var ledgerIndex: Int64?

    public init(record: DecisionRecord, ledgerIndex: Int64?) {
        self.record = record
        self.ledgerIndex = ledgerIndex
    }
}

/// Decision records found by field rather than listed: implemented by every store (SQLite,
/// PostgreSQL, in memory) with indexes, so a filter on agent, task, grant, tool or trace ID
/// does not scan the table.
public protocol DecisionRecordQueryRepository: DecisionRecordRepository {
    /// The records matching `query`, in its order, at most its limit, each with its ledger index.
    func decisionRecords(matching query: DecisionRecordQuery) async throws -> [IndexedDecisionRecord]
}
