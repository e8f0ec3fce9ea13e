import Crypto
public import LatchCore
public import LatchIdentity

/// One upstream tool definition as an operator pinned it (or as it waits for them to): the
/// upstream's own definition, its SHA-256, and whether it is the accepted one or a changed one
/// pending review.
///
/// A tool has at most one accepted and one pending pin. The gateway serves a tool only while the
/// upstream lists exactly its accepted definition (see ``ToolPinning``).
///
/// Invariants (checked by ``validate()``, which every store runs before writing):
/// - `upstream` and `tool` are 1-255 UTF-8 bytes without U+0000;
/// - `digest` is the lowercase hex SHA-256 of `definition` in canonical JSON, which is at most
///   ``maximumDefinitionBytes``;
/// - an accepted pin has `acceptedAt`; a pending one has neither `acceptedAt` nor `acceptedBy`.
public struct ToolPin: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable, CaseIterable {
        /// The definition an operator accepted (or the first one seen, under trust on first use).
        case accepted
        /// A definition the upstream lists that nobody has accepted yet: the tool is disabled.
        case pending
    }

    /// The configured upstream's name.
    public var upstream: String
    /// The upstream's own name for the tool.
    public var tool: String
    public var status: Status
    /// Lowercase hex SHA-256 of ``definition`` in canonical JSON (``GatewayTool/digest``).
    public var digest: String
    /// The upstream's definition, as it listed it (its own `name`).
    public var definition: JSONValue
    /// When this definition was first seen, milliseconds since the Unix epoch.
    public var firstSeen: Int64
    /// When it was accepted (nil while pending).
    public var acceptedAt: Int64?
    /// Who accepted it: the operator's user name; nil when Latch accepted it on first use.
    public var acceptedBy: String?

    public init(
        upstream: String, tool: String, status: Status, digest: String, definition: JSONValue, firstSeen: Int64, acceptedAt: Int64? = nil,
        acceptedBy: String? = nil
    ) {
        self.upstream = upstream
        self.tool = tool
        self.status = status
        self.digest = digest
        self.definition = definition
        self.firstSeen = firstSeen
        self.acceptedAt = acceptedAt
        self.acceptedBy = acceptedBy
    }

    /// A pin of a listed tool's definition: pending, or accepted at `now` by nobody (trust on
    /// first use).
    public init(_ tool: GatewayTool, status: Status, now: Int64) {
        self.init(
            upstream: tool.upstream, tool: tool.upstreamName, status: status, digest: tool.digest, definition: tool.upstreamDefinition,
            firstSeen: now, acceptedAt: status == .accepted ? now : nil)
    }

    /// `<upstream>.<tool>`, as agents and `latch tool` name it.
    public var name: String { self.upstream + "." + self.tool }

    /// The longest upstream or tool name a pin holds, in UTF-8 bytes.
    public static let maximumNameBytes = 255
    /// The largest definition a pin holds, in bytes of canonical JSON (1 MiB).
    public static let maximumDefinitionBytes = 1 << 20

    /// The SHA-256 of a definition as ``digest`` holds it.
    public static func digest(of definition: JSONValue) -> String { hexString(SHA256.hash(data: definition.serializedBytes)) }

    /// Whether `text` is a digest as pins hold them: 64 lowercase hex digits.
    public static func isDigest(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    /// Whether a name can be pinned (and so served): 1-255 bytes without U+0000.
    public static func isPinnableName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= Self.maximumNameBytes && !name.utf8.contains(0)
    }

    /// Checks the invariants above; `invalidInput` naming the pin when one does not hold.
    public func validate() throws(LatchError) {
        guard Self.isPinnableName(self.upstream), Self.isPinnableName(self.tool) else {
            throw LatchError(.invalidInput, "a tool pin's upstream and tool must be 1-\(Self.maximumNameBytes) bytes without U+0000")
        }
        let bytes = self.definition.serializedBytes
        guard bytes.count <= Self.maximumDefinitionBytes else {
            throw LatchError(.invalidInput, "tool pin \(self.name): the definition is larger than \(Self.maximumDefinitionBytes) bytes")
        }
        guard Self.isDigest(self.digest), hexString(SHA256.hash(data: bytes)) == self.digest else {
            throw LatchError(.invalidInput, "tool pin \(self.name): the digest is not the SHA-256 of the definition")
        }
        switch self.status {
        case .accepted:
            guard self.acceptedAt != nil else { throw LatchError(.invalidInput, "tool pin \(self.name): an accepted pin needs acceptedAt") }
        case .pending:
            guard self.acceptedAt == nil, self.acceptedBy == nil else {
                throw LatchError(.invalidInput, "tool pin \(self.name): a pending pin has no acceptedAt or acceptedBy")
            }
        }
        if let by = self.acceptedBy, !Self.isPinnableName(by) {
            throw LatchError(.invalidInput, "tool pin \(self.name): acceptedBy must be 1-\(Self.maximumNameBytes) bytes without U+0000")
        }
    }
}

/// What ``ToolPinRepository/acceptToolPin(upstream:tool:digest:acceptedAt:acceptedBy:)`` did.
public enum ToolPinAcceptance: Hashable, Sendable {
    /// The pending definition is now the accepted one (the pin as stored).
    case accepted(ToolPin)
    /// The tool has no pending definition (nothing to accept).
    case nothingPending
    /// The pending definition is not the one named: nothing changed. Carries its digest.
    case digestMismatch(pending: String)
}

/// Where tool pins live. Implemented by `LatchSQLite` and `LatchPostgres` (and the in-memory
/// store of `LatchTesting`); the shared conformance suite says what each must do.
///
/// The gateway reads and writes pins only in its refresh loop, never while answering a call.
public protocol ToolPinRepository: Sendable {
    /// Every pin, or one upstream's, ordered by upstream, then tool (bytewise), the accepted pin
    /// before the pending one.
    func toolPins(upstream: String?) async throws -> [ToolPin]
    /// Stores the first definition seen of a tool that has no pin at all (neither accepted nor
    /// pending), with the pin's status; returns false, storing nothing, when it has one (another
    /// node pinned it first). Invalid pins are `invalidInput`.
    func pinFirstDefinition(_ pin: ToolPin) async throws -> Bool
    /// Stores a pending definition (`pin.status` must be `pending`), replacing the tool's pending
    /// one unless that has the same digest (then nothing changes, `firstSeen` included). Returns
    /// whether anything changed. The accepted pin is untouched.
    func savePendingToolPin(_ pin: ToolPin) async throws -> Bool
    /// Deletes the tool's pending definition if its digest is `digest`; returns whether it did.
    func deletePendingToolPin(upstream: String, tool: String, digest: String) async throws -> Bool
    /// In one transaction: if the tool's pending definition has digest `digest`, it becomes the
    /// accepted one (replacing the accepted one, keeping its `firstSeen`) with `acceptedAt` and
    /// `acceptedBy`; otherwise nothing changes.
    func acceptToolPin(upstream: String, tool: String, digest: String, acceptedAt: Int64, acceptedBy: String?) async throws -> ToolPinAcceptance
}
