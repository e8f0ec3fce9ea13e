public import LatchCore
public import LatchGateway
public import LatchIdentity

/// An approval as `latch approvals list|show` and the admin API give it: every stored field
/// (`status` as of now, `stored_status` as stored), `risk`, and, when opened with the ledger key
/// (``ApprovalPrivacy``), the held call's `arguments` and `prompt` (null when it carried none).
/// Sealed blobs themselves are never shown.
public enum ApprovalJSON {
    /// What the person deciding reads, opened.
    public struct Opened: Sendable {
        public var arguments: JSONValue?
        public var prompt: String?

        public init(arguments: JSONValue?, prompt: String?) {
            self.arguments = arguments
            self.prompt = prompt
        }

        /// Opens `approval`'s sealed arguments and prompt.
        public init(_ approval: Approval, privacy: ApprovalPrivacy) throws(LatchError) {
            self.init(arguments: try privacy.openArguments(of: approval), prompt: try privacy.openPrompt(of: approval))
        }
    }

    public static func json(_ approval: Approval, now: Int64, opened: Opened? = nil) -> JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var object: [String: JSONValue] = [
            "id": .string(approval.id), "task_id": .string(approval.taskID), "grant_id": .string(approval.grantID), "agent": .string(approval.agent),
            "tool": .string(approval.tool), "digest": .string(approval.digest), "reason": .string(approval.reason),
            "policies": .array(approval.policies.map(JSONValue.string)), "prompt_hmac": optional(approval.promptHMAC),
            "arguments_hmac": optional(approval.argumentsHMAC), "status": .string(approval.effectiveStatus(now: now).rawValue),
            "stored_status": .string(approval.status.rawValue), "created_at": .int(approval.createdAt), "expires_at": .int(approval.expiresAt),
            "decided_by": optional(approval.decidedBy), "decided_at": approval.decidedAt.map(JSONValue.int) ?? .null, "note": optional(approval.note),
            "risk": approval.risk ?? .null,
        ]
        if let opened {
            object["arguments"] = opened.arguments ?? .null
            object["prompt"] = optional(opened.prompt)
        }
        return .object(object)
    }
}
