public import LatchAudit
import LatchCore
public import LatchGateway

/// A ledger leaf's row as queries read it: its columns, with its ledger index.
public struct LedgerRecordRow: Hashable, Sendable {
    public var index: Int64
    public var row: DecisionRecordRow

    public init(index: Int64, row: DecisionRecordRow) {
        self.index = index
        self.row = row
    }
}

/// A row of `decision_record_grants`: a grant, and a task its records are in.
public struct RecordedGrantPair: Hashable, Sendable {
    public var grantID: String
    public var taskID: String

    public init(grantID: String, taskID: String) {
        self.grantID = grantID
        self.taskID = taskID
    }
}

/// What a store keeps beside each ledger leaf so `audit query` and `audit trace` can find it:
/// the columns copied from the record, and `decision_record_grants`.
public protocol DecisionRecordIndexRepository: Sendable {
    /// Rows with a ledger index of at least `index`, in index order, at most `limit`, as stored.
    func ledgerRecordRows(from index: Int64, limit: Int) async throws -> [LedgerRecordRow]
    /// Every row of `decision_record_grants`.
    func recordedGrants() async throws -> [RecordedGrantPair]
}

/// The part of tampering the ledger's hashes cannot see: rows whose query columns were edited
/// (the record, which the leaf hash covers, left alone) and rows deleted from
/// `decision_record_grants`. Either hides records from the queries an investigator runs while
/// `LedgerVerifier` still passes. Run beside it by `latch audit verify`.
public enum DecisionRecordIndexCheck {
    /// `result` (``LedgerVerifier``'s) with this check's problems added, smallest index first:
    /// an index the ledger already names is reported once, as the ledger sees it.
    public static func adding(to result: LedgerVerification, from repository: any DecisionRecordIndexRepository) async throws
        -> LedgerVerification
    {
        let named = Set(result.problems.compactMap(\.index))
        let beside = try await Self.problems(repository).filter { $0.index.map { !named.contains($0) } ?? true }
        var combined = result
        combined.problems = Array(
            (result.problems + beside).sorted { ($0.index ?? .max) < ($1.index ?? .max) }.prefix(LedgerVerifier.maxProblems))
        return combined
    }

    /// Problems found, smallest index first, at most `maxProblems`: ``LedgerProblem/Kind/columns``
    /// at the index of each row whose columns disagree with its record, and
    /// ``LedgerProblem/Kind/grantIndex`` at the first index of each grant and task pair the
    /// records have and `decision_record_grants` lacks. Records older than the ledger (no index)
    /// are not read.
    public static func problems(
        _ repository: any DecisionRecordIndexRepository, pageSize: Int = LedgerVerifier.pageSize, maxProblems: Int = LedgerVerifier.maxProblems
    ) async throws -> [LedgerProblem] {
        var problems: [LedgerProblem] = []
        var firstIndex: [RecordedGrantPair: Int64] = [:]
        var next: Int64 = 0
        while true {
            let page = try await repository.ledgerRecordRows(from: next, limit: pageSize)
            // Decoding each record is most of the cost: a page's rows are checked in parallel.
            let disagreeing = await Self.disagreeing(page)
            for (offset, stored) in page.enumerated() {
                if let message = disagreeing[offset] {
                    problems.append(LedgerProblem(index: stored.index, kind: .columns, message: message))
                } else {
                    let pair = RecordedGrantPair(grantID: stored.row.grantID, taskID: stored.row.taskID)
                    if firstIndex[pair] == nil { firstIndex[pair] = stored.index }
                }
            }
            guard let last = page.last, page.count == pageSize else { break }
            next = last.index + 1
        }
        let recorded = Set(try await repository.recordedGrants())
        for (pair, index) in firstIndex where !recorded.contains(pair) {
            problems.append(
                LedgerProblem(
                    index: index, kind: .grantIndex,
                    message: "grant \(pair.grantID)'s records in task \(pair.taskID) are not in decision_record_grants: grant queries miss them"))
        }
        problems.sort { ($0.index ?? .max, $0.kind.rawValue) < ($1.index ?? .max, $1.kind.rawValue) }
        return Array(problems.prefix(maxProblems))
    }

    /// For each row of `page` (by position) whose columns disagree with its record, why.
    private static func disagreeing(_ page: [LedgerRecordRow]) async -> [Int: String] {
        let chunk = max(256, (page.count + 3) / 4)
        return await withTaskGroup(of: [Int: String].self) { group in
            for start in stride(from: 0, to: page.count, by: chunk) {
                let rows = page[start..<min(start + chunk, page.count)]
                group.addTask {
                    var found: [Int: String] = [:]
                    for (offset, stored) in zip(rows.indices, rows) {
                        do throws(LatchError) { _ = try DecisionRecordRows.record(stored.row) } catch { found[offset] = error.message }
                    }
                    return found
                }
            }
            var all: [Int: String] = [:]
            for await found in group { all.merge(found) { first, _ in first } }
            return all
        }
    }
}
