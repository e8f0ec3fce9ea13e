import Crypto
public import LatchCore
public import LatchIdentity

/// A held tool call waiting for (or holding) one person's decision.
///
/// The gateway creates one when a call is denied only by things a person may lift (Cedar
/// forbids all annotated `@approvable`, or a guard rule that holds) and the call names no
/// approval. It is bound to ``digest``: the SHA-256 of the canonical JSON of the call's tool,
/// arguments and grant ID, so an approval releases exactly that call, once.
///
/// Lifecycle (``Status``): `pending` → `approved` | `denied` (one decision, by an operator)
/// → `consumed` (an approved one, used by the retry that it released). A pending or approved
/// approval past ``expiresAt`` is `expired` (written when the store next touches it; see
/// ``effectiveStatus(now:)``): an expired approval denies, it never allows.
///
/// Invariants (checked by ``validate()``, which every store runs before writing):
/// - `id`, `taskID`, `grantID`, `agent` and `tool` are 1-255 UTF-8 bytes without U+0000;
/// - `digest` is 64 lowercase hex digits, and so are the prompt and argument digests when present;
/// - `createdAt < expiresAt`;
/// - a decided approval (`approved`, `denied`, `consumed`) has `decidedBy` and `decidedAt`;
/// - the sealed arguments and prompt, when present, are base64url (no padding) of at most
///   ``maximumSealedBytes`` characters; ``risk``, when present, is a JSON object.
public struct Approval: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable, CaseIterable {
        /// Waiting for a person.
        case pending
        /// Approved: the next retry of the same call (same digest, before expiry) is allowed and consumes it.
        case approved
        /// Denied by a person: retries naming it are denied.
        case denied
        /// Approved and used by one retry: it allows nothing more.
        case consumed
        /// Nobody decided in time, or the approved call was not retried in time.
        case expired
    }

    /// Random (128 bits, lowercase hex): what the agent retries with.
    public var id: String
    public var taskID: String
    /// The grant the held call was made with (part of ``digest``).
    public var grantID: String
    /// The agent holding the grant (SPIFFE ID).
    public var agent: String
    /// The namespaced tool.
    public var tool: String
    /// Lowercase hex SHA-256 of the canonical JSON `{"arguments": …, "grant_id": …, "tool": …}` (``digest(tool:arguments:grantID:)``).
    public var digest: String
    /// Why a person must decide: the `@approvable` annotations' reasons, or the guard rule's reason code.
    public var reason: String
    /// The policies (Cedar IDs, `guard/<rule>`) that held the call.
    public var policies: [String]
    /// As the call's decision record has them.
    public var promptHMAC: String?
    public var argumentsHMAC: String?
    /// What the person deciding reads, sealed (``ApprovalPrivacy``): the call's arguments (always
    /// kept for a held call), and its prompt when the call carried one.
    public var argumentsSealed: String?
    public var promptSealed: String?
    /// Why the call is risky, for the person deciding (``ApprovalRisk``): the tool's labels, the
    /// destination, the tainted arguments, and what held it. No argument value.
    public var risk: JSONValue?
    public var status: Status
    /// Unix milliseconds.
    public var createdAt: Int64
    public var expiresAt: Int64
    /// Who decided (an operator's name), and when; nil while pending or expired undecided.
    public var decidedBy: String?
    public var decidedAt: Int64?
    /// The operator's note, if any.
    public var note: String?

    public init(
        id: String, taskID: String, grantID: String, agent: String, tool: String, digest: String, reason: String, policies: [String],
        promptHMAC: String? = nil, argumentsHMAC: String? = nil, argumentsSealed: String? = nil, promptSealed: String? = nil, risk: JSONValue? = nil,
        status: Status = .pending, createdAt: Int64, expiresAt: Int64, decidedBy: String? = nil, decidedAt: Int64? = nil, note: String? = nil
    ) {
        self.id = id
        self.taskID = taskID
        self.grantID = grantID
        self.agent = agent
        self.tool = tool
        self.digest = digest
        self.reason = reason
        self.policies = policies
        self.promptHMAC = promptHMAC
        self.argumentsHMAC = argumentsHMAC
        self.argumentsSealed = argumentsSealed
        self.promptSealed = promptSealed
        self.risk = risk
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.note = note
    }

    /// The `_meta` key under which an agent names the approval it retries a held call with.
    public static let metaKey = "dev.latch/approval"
    /// The header with which an agent names the approval it retries a held HTTP egress request with.
    public static let egressHeader = "Latch-Approval"
    /// Longest name of who decides, and longest note, in UTF-8 bytes.
    public static let maximumNameBytes = 255
    public static let maximumNoteBytes = 4096
    /// Longest sealed value (base64url characters): a 1 MiB call's arguments, sealed.
    public static let maximumSealedBytes = 1_500_000

    /// The SHA-256 a held call is bound to: canonical JSON (RFC 8785) of the tool, the
    /// arguments exactly as forwarded, and the grant ID.
    public static func digest(tool: String, arguments: JSONValue, grantID: String) -> String {
        let bound = JSONValue.object(["tool": .string(tool), "arguments": arguments, "grant_id": .string(grantID)])
        return hexString(SHA256.hash(data: bound.serializedBytes))
    }

    /// The SHA-256 a held HTTP egress request is bound to: canonical JSON (RFC 8785) of
    /// `{"api", "body_sha256", "grant_id", "method", "path"}`, where `path` is the path below the
    /// API with `?query` when the request has one, and `body_sha256` the body's SHA-256 (hex).
    public static func egressDigest(method: String, api: String, pathAndQuery: String, bodySHA256: String, grantID: String) -> String {
        let bound = JSONValue.object([
            "method": .string(method), "api": .string(api), "path": .string(pathAndQuery), "body_sha256": .string(bodySHA256),
            "grant_id": .string(grantID),
        ])
        return hexString(SHA256.hash(data: bound.serializedBytes))
    }

    /// The status as of `now`: a pending or approved approval past its expiry is `expired`.
    public func effectiveStatus(now: Int64) -> Status {
        switch self.status {
        case .pending, .approved: now >= self.expiresAt ? .expired : self.status
        case .denied, .consumed, .expired: self.status
        }
    }

    /// Whether a retry of the call with `digest` at `now` may consume this approval.
    public func releases(digest: String, now: Int64) -> Bool {
        self.digest == digest && self.effectiveStatus(now: now) == .approved
    }

    /// Why a retry of the call with `digest` at `now`, naming this approval, is not released:
    /// a ``DenialReason`` code (`approval_mismatch` first, so a retry of another call learns
    /// nothing about this one), or nil when it is released.
    public func refusal(digest: String, now: Int64) -> String? {
        guard self.digest == digest else { return DenialReason.approvalMismatch }
        switch self.effectiveStatus(now: now) {
        case .approved: return nil
        case .pending: return DenialReason.approvalPending
        case .denied: return DenialReason.approvalDenied
        case .consumed: return DenialReason.approvalConsumed
        case .expired: return DenialReason.approvalTimeout
        }
    }

    /// Checks the invariants above.
    public func validate() throws(LatchError) {
        for (name, value) in [("id", self.id), ("task", self.taskID), ("grant", self.grantID), ("agent", self.agent), ("tool", self.tool)] {
            guard Self.isName(value) else { throw LatchError(.invalidInput, "an approval's \(name) must be 1-255 bytes without U+0000") }
        }
        guard Self.isDigest(self.digest) else { throw LatchError(.invalidInput, "an approval's digest must be 64 lowercase hex digits") }
        for digest in [self.promptHMAC, self.argumentsHMAC].compactMap(\.self) where !Self.isDigest(digest) {
            throw LatchError(.invalidInput, "an approval's prompt and argument digests must be 64 lowercase hex digits")
        }
        for sealed in [self.argumentsSealed, self.promptSealed].compactMap(\.self) where !Self.isSealed(sealed) {
            throw LatchError(
                .invalidInput, "an approval's sealed arguments and prompt must be base64url of at most \(Self.maximumSealedBytes) characters")
        }
        if let risk = self.risk, risk.objectValue == nil { throw LatchError(.invalidInput, "an approval's risk must be a JSON object") }
        guard self.createdAt < self.expiresAt else { throw LatchError(.invalidInput, "an approval must expire after it was created") }
        if [.approved, .denied, .consumed].contains(self.status), self.decidedBy == nil || self.decidedAt == nil {
            throw LatchError(.invalidInput, "a decided approval names who decided and when")
        }
        if let decidedBy { try Self.validateDecider(decidedBy, note: self.note) }
    }

    /// Who decides: 1-255 bytes without U+0000 or control characters; the note at most 4096 bytes without U+0000.
    public static func validateDecider(_ name: String, note: String?) throws(LatchError) {
        guard Self.isName(name), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw LatchError(.invalidInput, "who decides an approval must be 1-\(Self.maximumNameBytes) bytes without control characters")
        }
        if let note, note.utf8.count > Self.maximumNoteBytes || note.utf8.contains(0) {
            throw LatchError(.invalidInput, "an approval's note must be at most \(Self.maximumNoteBytes) bytes without U+0000")
        }
    }

    public static func isName(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= Self.maximumNameBytes && !value.utf8.contains(0)
    }

    static func isSealed(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= Self.maximumSealedBytes
            && value.utf8.allSatisfy { byte in
                (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }

    public static func isDigest(_ value: String) -> Bool {
        value.utf8.count == 64
            && value.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}

/// The answer to an operator's decision (``ApprovalRepository/decideApproval(id:approve:by:note:now:)``).
public enum ApprovalDecisionOutcome: Hashable, Sendable {
    /// Decided now; the approval as stored.
    case decided(Approval)
    /// Already decided, consumed or expired: nothing changed; the approval as it is (an
    /// expired one now says so).
    case refused(Approval)
    /// No approval has that ID.
    case notFound
}

/// The answer to a retry's consume (``ApprovalRepository/consumeApproval(id:digest:now:)``).
public enum ApprovalConsumption: Hashable, Sendable {
    /// This retry used it: the approval as stored, `consumed`.
    case consumed(Approval)
    /// Not used: the approval as it is (``Approval/refusal(digest:now:)`` says why).
    case refused(Approval)
    case notFound
}

/// Where approvals are kept: implemented by every store (SQLite, PostgreSQL, in memory).
///
/// - Important: every state change is one conditional write, so of two operators, two
///   retries or two gateway nodes acting on one approval at once exactly one succeeds.
public protocol ApprovalRepository: Sendable {
    /// Stores a new pending approval unless its task already has `maxPending` pending approvals
    /// unexpired at `now` (counted in the same transaction); returns whether it was stored.
    /// Invalid approvals (``Approval/validate()``) are `invalidInput`; an ID already stored is an error.
    func createApproval(_ approval: Approval, maxPending: Int, now: Int64) async throws -> Bool
    /// One approval, as stored (``Approval/effectiveStatus(now:)`` tells whether it expired since).
    func approval(id: String) async throws -> Approval?
    /// Approvals, newest first (by creation time, then ID), optionally one task's and one stored
    /// status's, at most `limit`.
    func approvals(taskID: String?, status: Approval.Status?, limit: Int) async throws -> [Approval]
    /// `pending` → `approved` (or `denied`) by `by` with `note`, only while pending and unexpired
    /// at `now`. A pending one past its expiry becomes `expired` and is refused.
    func decideApproval(id: String, approve: Bool, by: String, note: String?, now: Int64) async throws -> ApprovalDecisionOutcome
    /// `approved` → `consumed`, only for `digest` and while unexpired at `now` (one conditional
    /// UPDATE). An approved or pending one past its expiry becomes `expired`.
    func consumeApproval(id: String, digest: String, now: Int64) async throws -> ApprovalConsumption
}
