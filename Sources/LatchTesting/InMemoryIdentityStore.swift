public import LatchCore
public import LatchIdentity
import LatchStoreSupport
import Synchronization

/// An in-memory ``IdentityStore`` for unit tests (the real ones are `LatchSQLite`/`LatchPostgres`).
/// Follows the same contract, including compare-and-set key transitions and one-time token use.
public final class InMemoryIdentityStore: IdentityStore, Sendable {
    struct State {
        var entries: [String: RegistrationEntry] = [:]
        var revision: Int64 = 0
        var keys: [String: StoredKey] = [:]
        var keyOrder: [String] = []
        var keysRevision: Int64 = 0
        var tokens: [[UInt8]: StoredJoinToken] = [:]
    }

    private let state = Mutex(State())

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
}
