public import LatchAudit
public import LatchCore
public import LatchGateway
public import LatchGrants
public import LatchIdentity
public import LatchSecrets
public import Testing

/// Every repository protocol a store implements: what the conformance checks exercise.
public typealias ConformanceStore = ApprovalRepository & DecisionRecordQueryRepository & GrantRepository & IdentityStore & LedgerRepository
    & OperatorRepository & QuarantineRepository & SecretRepository & ToolPinRepository

/// A store under test: fresh, empty storage, and a way to open handles on it.
///
/// One fixture is one database (a new SQLite file, a new PostgreSQL schema). Each
/// ``withStore(_:)`` opens a *new* handle on it (a new connection pool or client), which is how
/// the checks reach "another process" and "after a restart".
public protocol IdentityStoreFixture: Sendable {
    /// Opens a new handle on this fixture's storage, runs `body` with it, then closes the handle.
    func withStore<Result: Sendable>(_ body: @Sendable (any ConformanceStore) async throws -> Result) async throws -> Result
}

/// The repository conformance suite: what every ``IdentityStore``, ``GrantRepository`` and
/// ``DecisionRecordRepository`` must do, as async checks.
///
/// Each backend's tests run every check against a fresh fixture:
/// ```swift
/// @Test(arguments: IdentityStoreConformance.checks)
/// func conforms(_ check: IdentityStoreConformance.Check) async throws {
///     try await check.run(MyFixture())
/// }
/// ```
/// Checks record failures with Swift Testing's `#expect`/`#require`, so a failing check shows
/// the expectation that broke, reported against the backend's parameterized test.
public enum IdentityStoreConformance {
    /// One named check.
    public struct Check: Sendable, CustomTestStringConvertible, CustomStringConvertible {
        public let name: String
        let body: @Sendable (any IdentityStoreFixture) async throws -> Void

        init(_ name: String, _ body: @escaping @Sendable (any IdentityStoreFixture) async throws -> Void) {
            self.name = name
            self.body = body
        }

        /// Runs the check against `fixture` (which should be fresh and empty).
        public func run(_ fixture: some IdentityStoreFixture) async throws {
            try await self.body(fixture)
        }

        public var testDescription: String { self.name }
        public var description: String { self.name }
    }

    /// Every check, registrations first, then keys, join tokens, durability, grants, decision
    /// records, secrets, tool pins, approvals and quarantines.
    public static var checks: [Check] {
        Self.registrationChecks + Self.keyChecks + Self.joinTokenChecks + Self.durabilityChecks + Self.grantChecks
            + Self.decisionRecordChecks + Self.decisionRecordQueryChecks + Self.ledgerChecks + Self.secretChecks + Self.toolPinChecks
            + Self.approvalChecks + Self.operatorChecks + Self.quarantineChecks
    }
}

// MARK: - Building values

/// Small builders the checks share; public so backend-specific tests can use them too.
public enum ConformanceValues {
    /// `spiffe://example.org<path>`.
    public static func spiffeID(_ path: String) throws -> SPIFFEID {
        try SPIFFEID(parsing: "spiffe://example.org" + path)
    }

    /// Parses `type:value` at the first colon.
    public static func selector(_ text: String) -> Selector {
        guard let colon = text.firstIndex(of: ":") else { return Selector(type: text, value: "") }
        return Selector(type: String(text[..<colon]), value: String(text[text.index(after: colon)...]))
    }

    public static func entry(
        _ id: String, path: String? = nil, selectors: [String], createdAt: Int64 = 1_000,
        attributes: [String: EntryAttribute] = [:], x509TTL: Int64 = 3_600, jwtTTL: Int64 = 300
    ) throws -> RegistrationEntry {
        RegistrationEntry(
            id: id, spiffeID: try Self.spiffeID(path ?? "/workload/\(id)"), selectors: selectors.map(Self.selector),
            x509SVIDTTL: x509TTL, jwtSVIDTTL: jwtTTL, attributes: attributes, createdAt: createdAt)
    }

    public static func key(
        _ id: String, purpose: KeyPurpose = .jwtSigning, state: KeyState = .prepared, createdAt: Int64 = 1_000,
        notAfter: Int64 = 100_000, certificate: [UInt8]? = nil
    ) -> StoredKey {
        StoredKey(
            keyID: id, purpose: purpose, state: state, sealedPrivateKey: Array(id.utf8) + [0, 1, 2, 0xFF],
            certificateDER: certificate, notBefore: createdAt, notAfter: notAfter, createdAt: createdAt)
    }

    /// A stored secret named `name` whose sealed bytes (at least the 29 a real one has) derive
    /// from `seed`; the stores never open them.
    public static func secret(
        _ name: String, seed: UInt8 = 1, createdAt: Int64 = 1_000, updatedAt: Int64? = nil, length: Int = 40
    ) throws -> StoredSecret {
        StoredSecret(
            name: try SecretName(parsing: name), sealedValue: (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed)) },
            createdAt: createdAt, updatedAt: updatedAt ?? createdAt)
    }

    /// A 32-byte hash whose bytes all derive from `seed` (deterministic, distinct per seed).
    public static func tokenHash(_ seed: UInt8) -> [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 31 &+ Int(seed) &* 7 &+ 1) ^ seed }
    }

    public static func token(_ seed: UInt8, expiresAt: Int64 = 10_000, createdAt: Int64 = 1_000) -> StoredJoinToken {
        StoredJoinToken(tokenHash: Self.tokenHash(seed), selectorValue: "join_token:token-\(seed)", expiresAt: expiresAt, createdAt: createdAt)
    }
}

/// A seeded SplitMix64 generator: the same cases on every run and machine.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Whether `body` throws a `LatchError` with `code` (any other outcome records an issue).
func expectLatchError(
    _ code: LatchError.Code, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("\(what): expected LatchError(\(code)), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as LatchError {
        #expect(error.code == code, "\(what): \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(what): expected LatchError(\(code)), got \(error)", sourceLocation: sourceLocation)
    }
}
