/// Metadata keys for structured logs: one dotted namespace shared by every module, so the same
/// fact has the same key everywhere (`agent.id`, not `agentID` in one place and `agent` in another).
public enum LogKey {
    /// The agent's SPIFFE ID.
    public static let agentID = "agent.id"
    /// The task an agent works on.
    public static let taskID = "task.id"
    /// A grant (token) identifier, never the token itself.
    public static let grantID = "grant.id"
    /// The MCP tool or HTTP route being called.
    public static let toolName = "tool.name"
    /// A Cedar policy identifier.
    public static let policyID = "policy.id"
    /// An authorization decision (`allow`, `deny`).
    public static let decision = "decision"
    /// A request or trace correlation identifier.
    public static let requestID = "request.id"
    /// A file the operation read or wrote.
    public static let filePath = "file.path"
    /// An error code (`LatchError.Code.name`).
    public static let errorCode = "error.code"
    /// An upstream MCP server's configured name.
    public static let upstreamName = "upstream.name"
    /// A gateway decision record's ID (the `decision_id` agents see).
    public static let decisionID = "decision.id"
    /// An approval's ID (a held tool call's).
    public static let approvalID = "approval.id"
    /// Why something was refused: a reason code.
    public static let reason = "reason"
    /// What went wrong, as text (never a secret or a token).
    public static let error = "error"

    /// Every key, for checks that keys stay unique and well-formed.
    public static let all: [String] = [
        agentID, taskID, grantID, toolName, policyID, decision, requestID, filePath, errorCode, upstreamName, decisionID, reason, error,
        approvalID,
    ]
}
