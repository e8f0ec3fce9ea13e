public import LatchAudit
public import LatchCore
public import LatchGateway
public import LatchGrants
public import LatchIdentity
import LatchSecrets
import LatchStoreSupport
import Synchronization

/// An in-memory ``IdentityStore``, ``GrantRepository``, ``DecisionRecordRepository``,
/// `SecretRepository` and ``ToolPinRepository`` for unit tests (the real ones are `LatchSQLite`/`LatchPostgres`). Follows the
/// same contract, including compare-and-set key transitions, one-time token use and
/// first-revocation-wins.
public final class InMemoryIdentityStore: IdentityStore, GrantRepository, DecisionRecordQueryRepository, Sendable {
    struct State {
        var entries: [String: RegistrationEntry] = [:]
        var revision: Int64 = 0
        var keys: [String: StoredKey] = [:]
        var keyOrder: [String] = []
        var keysRevision: Int64 = 0
        var tokens: [[UInt8]: StoredJoinToken] = [:]
        var grants: [String: TaskGrant] = [:]
        var revocations: [String: GrantRevocation] = [:]
        /// The revision each revocation was recorded at.
        var revocationRevisions: [String: Int64] = [:]
        var revocationsRevision: Int64 = 0
        var decisionRecords: [String: DecisionRecord] = [:]
        /// Each record's ledger index, by record ID.
        var decisionRecordIndices: [String: Int64] = [:]
        var secrets: [SecretName: StoredSecret] = [:]
        var secretsRevision: Int64 = 0
        var toolPins: [ToolPinKey: ToolPin] = [:]
        var approvals: [String: Approval] = [:]
        var quarantines: [SPIFFEID: AgentQuarantine] = [:]
        var operators: [String: Operator] = [:]
        /// The ledger: entry `i` has index `i`.
        var ledger: [LedgerEntry] = []
        var checkpoints: [Int64: StoredCheckpoint] = [:]
        var ledgerKeys: StoredLedgerKeys?
    }

    let state = Mutex(State())

    public init() {}

    // MARK: RegistrationRepository

    public func createEntry(_ entry: RegistrationEntry) async throws {
        try StoreValidation.validate(entry)
        try self.state.withLock { state throws(LatchError) in
            if state.entries[entry.id] != nil { throw LatchError(.conflict, "entry \(entry.id) exists") }
            state.entries[entry.id] = entry
            state.revision += 1
        }
    }

    public func entry(id: String) async throws -> RegistrationEntry? { self.state.withLock { $0.entries[id] } }

    public func listEntries() async throws -> [RegistrationEntry] {
        self.state.withLock { state in
            state.entries.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        }
    }

    public func deleteEntry(id: String) async throws -> Bool {
        self.state.withLock { state in
            guard state.entries.removeValue(forKey: id) != nil else { return false }
            state.revision += 1
            return true
        }
    }

    public func entries(matching selectors: Set<Selector>) async throws -> [RegistrationEntry] {
        try await self.listEntries().filter { $0.matches(selectors) }
    }

    public func entriesRevision() async throws -> Int64 { self.state.withLock { $0.revision } }

    // MARK: KeyRepository

    public func saveKey(_ key: StoredKey) async throws {
        try StoreValidation.validate(key)
        self.state.withLock { state in
            if state.keys[key.keyID] == nil { state.keyOrder.append(key.keyID) }
            state.keys[key.keyID] = key
            state.keysRevision += 1
        }
    }

    public func keys(purpose: KeyPurpose) async throws -> [StoredKey] {
        self.state.withLock { state in
            state.keyOrder.compactMap { state.keys[$0] }.filter { $0.purpose == purpose }
                .sorted { ($0.createdAt, $0.keyID) < ($1.createdAt, $1.keyID) }
        }
    }

    public func transitionKey(keyID: String, from: KeyState, to: KeyState) async throws -> Bool {
        self.state.withLock { state in
            guard state.keys[keyID]?.state == from else { return false }
            state.keys[keyID]?.state = to
            state.keysRevision += 1
            return true
        }
    }

    public func deleteExpiredKeys(before: Int64) async throws -> Int {
        self.state.withLock { state in
            let doomed = state.keys.values.filter { $0.state == .retired && $0.notAfter < before }.map(\.keyID)
            for id in doomed { state.keys[id] = nil }
            state.keyOrder.removeAll { doomed.contains($0) }
            if !doomed.isEmpty { state.keysRevision += 1 }
            return doomed.count
        }
    }

    public func keysRevision() async throws -> Int64 { self.state.withLock { $0.keysRevision } }

    // MARK: JoinTokenRepository

    public func createJoinToken(_ token: StoredJoinToken) async throws {
        try StoreValidation.validate(token)
        try self.state.withLock { state throws(LatchError) in
            if state.tokens[token.tokenHash] != nil { throw LatchError(.conflict, "token exists") }
            state.tokens[token.tokenHash] = token
        }
    }

    public func consumeJoinToken(hash: [UInt8], now: Int64) async throws -> StoredJoinToken? {
        try StoreValidation.tokenHash(hash)
        return self.state.withLock { state -> StoredJoinToken? in
            // An expired token is not consumed (deleteExpiredJoinTokens removes it).
            guard let token = state.tokens[hash], token.expiresAt > now else { return nil }
            state.tokens[hash] = nil
            return token
        }
    }

    public func deleteExpiredJoinTokens(now: Int64) async throws -> Int {
        self.state.withLock { state in
            let doomed = state.tokens.filter { $0.value.expiresAt <= now }.map(\.key)
            for h in doomed { state.tokens[h] = nil }
            return doomed.count
        }
    }

    // MARK: GrantRepository

    public func saveGrants(_ records: [GrantRecord]) async throws {
        let grants = records.map(\.grant)
        try StoreValidation.validate(grants)
        try self.state.withLock { state throws(LatchError) in
            if let existing = grants.first(where: { state.grants[$0.id] != nil }) {
                throw LatchError(.conflict, "a grant with id \(existing.id) already exists")
            }
            let roots = Set(grants.filter { $0.depth == 0 }.map(\.taskID))
            if let taken = state.grants.values.first(where: { $0.depth == 0 && roots.contains($0.taskID) }) {
                throw LatchError(.conflict, "task \(taken.taskID) already has a root grant")
            }
            for grant in grants { state.grants[grant.id] = grant }
        }
    }

    public func grant(id: String) async throws -> TaskGrant? { self.state.withLock { $0.grants[id] } }

    public func grants(taskID: String) async throws -> [TaskGrant] {
        self.state.withLock { state in
            state.grants.values.filter { $0.taskID == taskID }.sorted { ($0.issuedAt, $0.depth, $0.id) < ($1.issuedAt, $1.depth, $1.id) }
        }
    }

    public func listGrants(activeAt: Int64?, limit: Int) async throws -> [TaskGrant] {
        self.state.withLock { state in
            let active = state.grants.values.filter { grant in activeAt.map { grant.expiresAt > $0 } ?? true }
            return Array(active.sorted { ($0.issuedAt, $0.id) > ($1.issuedAt, $1.id) }.prefix(max(0, limit)))
        }
    }

    public func task(id: String) async throws -> GrantTask? {
        self.state.withLock { state in
            guard let root = state.grants.values.first(where: { $0.taskID == id && $0.depth == 0 }),
                var task = GrantRows.task(rootedAt: root)
            else { return nil }
            let ended = state.revocations[root.id]
            task.endedAt = ended?.revokedAt
            task.endReason = ended?.reason
            return task
        }
    }

    public func revoke(_ revocations: [GrantRevocation]) async throws -> [GrantRevocation] {
        for revocation in revocations { try StoreValidation.validate(revocation) }
        return self.state.withLock { state in
            var recorded: [GrantRevocation] = []
            for revocation in revocations where state.revocations[revocation.grantID] == nil {
                state.revocations[revocation.grantID] = revocation
                state.revocationRevisions[revocation.grantID] = state.revocationsRevision + 1
                recorded.append(revocation)
            }
            if !recorded.isEmpty { state.revocationsRevision += 1 }
            return recorded
        }
    }

    public func revocation(grantID: String) async throws -> GrantRevocation? { self.state.withLock { $0.revocations[grantID] } }

    public func revocations(afterRevision revision: Int64) async throws -> [GrantRevocation] {
        self.state.withLock { state in
            state.revocations.values.filter { (state.revocationRevisions[$0.grantID] ?? 0) > revision }
                .sorted { ((state.revocationRevisions[$0.grantID] ?? 0), $0.grantID) < ((state.revocationRevisions[$1.grantID] ?? 0), $1.grantID) }
        }
    }

    public func revocations(notExpiredAt now: Int64) async throws -> [GrantRevocation] {
        self.state.withLock { state in
            state.revocations.values.filter { $0.expiresAt > now }.sorted { ($0.revokedAt, $0.grantID) < ($1.revokedAt, $1.grantID) }
        }
    }

    public func revocationsRevision() async throws -> Int64 { self.state.withLock { $0.revocationsRevision } }

    public func deleteExpiredGrants(before: Int64) async throws -> Int {
        self.state.withLock { state in
            let count = state.grants.count + state.revocations.count
            state.grants = state.grants.filter { $0.value.expiresAt >= before }
            state.revocations = state.revocations.filter { $0.value.expiresAt >= before }
            state.revocationRevisions = state.revocationRevisions.filter { state.revocations[$0.key] != nil }
            return count - state.grants.count - state.revocations.count
        }
    }

    // MARK: DecisionRecordRepository

    public func saveDecisionRecords(_ records: [DecisionRecord], ledgerKey: LedgerKey) async throws {
        try StoreValidation.validate(records)
        try self.state.withLock { state throws(LatchError) in
            if let existing = records.first(where: { state.decisionRecords[$0.id] != nil }) {
                throw LatchError(.conflict, "a decision record with id \(existing.id) already exists")
            }
            for record in records {
                state.decisionRecords[record.id] = record
                state.decisionRecordIndices[record.id] = Int64(state.ledger.count)
                state.ledger.append(LedgerEntry(index: Int64(state.ledger.count), bytes: record.json.serializedBytes, key: ledgerKey))
            }
        }
    }

    public func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
        self.state.withLock { state in
            // IDs compare by UTF-8 bytes, as the stores' `BINARY`/`"C"` collations do.
            let selected = state.decisionRecords.values.filter { record in taskID.map { record.taskID.utf8.elementsEqual($0.utf8) } ?? true }
            let newestFirst = selected.sorted { a, b in
                a.time != b.time ? a.time > b.time : b.id.utf8.lexicographicallyPrecedes(a.id.utf8)
            }
            return Array(newestFirst.prefix(max(0, limit)))
        }
    }

    public func decisionRecords(matching query: DecisionRecordQuery) async throws -> [IndexedDecisionRecord] {
        self.state.withLock { state in
            let selected = state.decisionRecords.values.filter(query.matches).sorted { a, b in
                let (a, b) = (DecisionRecordQuery.Cursor(after: a), DecisionRecordQuery.Cursor(after: b))
                return query.order == .oldestFirst ? DecisionRecordQuery.precedes(a, b) : DecisionRecordQuery.precedes(b, a)
            }
            return selected.prefix(max(0, query.limit)).map { record in
                IndexedDecisionRecord(record: record, ledgerIndex: state.decisionRecordIndices[record.id])
            }
        }
    }
}
