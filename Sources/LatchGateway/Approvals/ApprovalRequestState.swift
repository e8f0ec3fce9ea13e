import LatchAudit
import LatchCore
import LatchIdentity

/// The `requestState` of a held call's input-required answer (MCP 2026-07-28, multi round-trip
/// requests): which approval holds the call, for which call, until when. The client echoes it on
/// its retry; the spec has servers treat it as attacker-controlled, so it is sealed with
/// AES-256-GCM under the ledger's value-seal key (``LedgerValueKey``), with this purpose and
/// the grant's ID as additional data: it opens only on a retry made with the same grant (whose
/// DPoP key proves the holder), and only intact. Its expiry is the approval's.
///
/// Opening it proves the gateway issued it for this grant; whether the approval releases the
/// call is still the store's answer (a state never stands in for a decision, and may be echoed
/// more than once: an approval is used at most once, server-side).
struct ApprovalRequestState: Hashable, Sendable {
    var approvalID: String
    /// ``Approval/digest(tool:arguments:grantID:)`` of the held call.
    var digest: String
    /// Unix milliseconds.
    var expiresAt: Int64

    static let purpose = "latch.approval.request-state.v1"

    private static func context(grantID: String) -> [UInt8] { Array(Self.purpose.utf8) + [0] + Array(grantID.utf8) }

    /// The sealed state: base64url of `nonce ‖ ciphertext ‖ tag`.
    func sealed(with key: LedgerValueKey, grantID: String) throws(LatchError) -> String {
        let payload = JSONValue.object([
            "approval": .string(self.approvalID), "digest": .string(self.digest), "expires_at": .int(self.expiresAt),
        ])
        return Base64URL.encode(try key.seal(payload.serializedBytes, context: Self.context(grantID: grantID)))
    }

    /// The state `text` holds, or nil when it is not one this gateway sealed for `grantID`
    /// (altered, from another grant, not base64url, or of another shape).
    static func open(_ text: String, with key: LedgerValueKey, grantID: String) -> ApprovalRequestState? {
        guard text.utf8.count <= 1024, let sealed = Base64URL.decode(text.utf8),
            let plaintext = key.open(sealed, context: Self.context(grantID: grantID)), let payload = JSONValue(parsing: plaintext),
            case .string(let id)? = payload["approval"], case .string(let digest)? = payload["digest"],
            case .int(let expiresAt)? = payload["expires_at"], Approval.isName(id)
        else { return nil }
        return ApprovalRequestState(approvalID: id, digest: digest, expiresAt: expiresAt)
    }
}
