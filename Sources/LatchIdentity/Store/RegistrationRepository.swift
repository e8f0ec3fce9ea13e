public import LatchCore

/// A registration entry: the selectors a workload must present to be issued `spiffeID`.
///
/// Invariants: `selectors` is non-empty and sorted (set semantics); TTLs are positive seconds.
/// `attributes` are operator-set facts about the workload (team, risk tier, allowed intents…)
/// that later become Cedar entity attributes of the agent.
public struct RegistrationEntry: Hashable, Sendable {
    /// Stable identifier (a random UUID string chosen at creation).
    public var id: String
    public var spiffeID: SPIFFEID
    public var selectors: [Selector]
    /// Requested X.509-SVID lifetime in seconds; capped by the CA's own lifetime when minted.
    public var x509SVIDTTL: Int64
    /// Requested JWT-SVID lifetime in seconds; capped likewise.
    public var jwtSVIDTTL: Int64
    public var attributes: [String: EntryAttribute]
    /// Creation time, milliseconds since the Unix epoch.
    public var createdAt: Int64

    public init(id: String, spiffeID: SPIFFEID, selectors: [Selector], x509SVIDTTL: Int64, jwtSVIDTTL: Int64,
                attributes: [String: EntryAttribute] = [:], createdAt: Int64) {
        self.id = id
        self.spiffeID = spiffeID
        self.selectors = Array(Set(selectors)).sorted()
        self.x509SVIDTTL = x509SVIDTTL
        self.jwtSVIDTTL = jwtSVIDTTL
        self.attributes = attributes
        self.createdAt = createdAt
    }
}

/// An operator-set attribute value of a registration entry (maps onto a Cedar value).
public enum EntryAttribute: Hashable, Sendable {
    case string(String)
    case long(Int64)
    case bool(Bool)
    case strings([String])
}

/// `TYPE:VALUE`, e.g. `unix:uid:1000` has type `unix` and value `uid:1000`.
///
/// Invariants (checked by ``init(parsing:)``): type is non-empty `[a-z0-9_-]`; value is non-empty.
public struct Selector: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let type: String
    public let value: String

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }

    public var description: String { "\(self.type):\(self.value)" }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }
}

/// Where registration entries live. Implemented by `LatchSQLite` and `LatchPostgres`; one shared
/// conformance suite (in `LatchTesting`) runs against every implementation.
public protocol RegistrationRepository: Sendable {
    /// Stores a new entry; throws `LatchError(.conflict)` if the id exists.
    func createEntry(_ entry: RegistrationEntry) async throws
    func entry(id: String) async throws -> RegistrationEntry?
    /// All entries, ordered by creation time then id.
    func listEntries() async throws -> [RegistrationEntry]
    /// Deletes an entry; returns whether it existed.
    func deleteEntry(id: String) async throws -> Bool
    /// Entries whose selectors are all contained in `selectors` (what a workload presented).
    func entries(matching selectors: Set<Selector>) async throws -> [RegistrationEntry]
    /// A counter that grows with every change to entries, so a running server notices changes made
    /// by another process (the CLI against the data directory, another node) without a restart.
    func entriesRevision() async throws -> Int64
}
