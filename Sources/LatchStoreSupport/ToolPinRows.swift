public import LatchCore
public import LatchGateway
import LatchIdentity

/// Turning `tool_pins` rows back into values, and the SQL both stores share.
///
/// A row that does not decode (an unknown status, a definition that is not JSON, a digest that
/// is not the definition's SHA-256: a row edited by hand) is reported as `internalError` naming
/// the tool, not skipped: a pin that silently changed would defeat pinning.
public enum ToolPinRows {
    /// Columns selected by every query, in ``pin(upstream:tool:status:digest:definition:firstSeen:acceptedAt:acceptedBy:)`` order.
    public static let columns = "upstream, tool, status, digest, definition, first_seen, accepted_at, accepted_by"

    /// The definition column of a pin: its canonical JSON.
    public static func definitionText(_ pin: ToolPin) -> String { pin.definition.serialized }

    public static func pin(
        upstream: String, tool: String, status: String, digest: String, definition: String, firstSeen: Int64, acceptedAt: Int64?,
        acceptedBy: String?
    ) throws(LatchError) -> ToolPin {
        let name = upstream + "." + tool
        guard let status = ToolPin.Status(rawValue: status) else {
            throw LatchError(.internalError, "stored tool pin \(name) has an unknown status")
        }
        guard let json = JSONValue(parsing: definition.utf8) else {
            throw LatchError(.internalError, "stored tool pin \(name) has a definition that is not valid JSON")
        }
        guard ToolPin.digest(of: json) == digest else {
            throw LatchError(.internalError, "stored tool pin \(name) has a digest that is not its definition's SHA-256")
        }
        return ToolPin(
            upstream: upstream, tool: tool, status: status, digest: digest, definition: json, firstSeen: firstSeen, acceptedAt: acceptedAt,
            acceptedBy: acceptedBy)
    }
}

extension StoreValidation {
    /// A pin to write: ``ToolPin/validate()``, and its definition's canonical JSON re-parses to
    /// the same text (so what is read back hashes to the digest).
    public static func validate(_ pin: ToolPin) throws(LatchError) {
        try pin.validate()
        let text = ToolPinRows.definitionText(pin)
        guard JSONValue(parsing: text.utf8)?.serialized == text else {
            throw LatchError(.invalidInput, "tool pin \(pin.name): the definition does not survive a JSON round trip")
        }
    }

    /// The names and digest an accept or delete names.
    public static func validatePinKey(upstream: String, tool: String, digest: String) throws(LatchError) {
        guard ToolPin.isPinnableName(upstream), ToolPin.isPinnableName(tool) else {
            throw LatchError(.invalidInput, "a tool pin's upstream and tool must be 1-\(ToolPin.maximumNameBytes) bytes without U+0000")
        }
        guard ToolPin.isDigest(digest) else { throw LatchError(.invalidInput, "a tool pin digest is 64 lowercase hex digits") }
    }

    /// ``validatePinKey(upstream:tool:digest:)``, and who accepts (when named) as a pinnable name.
    public static func validateAcceptance(upstream: String, tool: String, digest: String, acceptedBy: String?) throws(LatchError) {
        try Self.validatePinKey(upstream: upstream, tool: tool, digest: digest)
        if let acceptedBy, !ToolPin.isPinnableName(acceptedBy) {
            throw LatchError(.invalidInput, "acceptedBy must be 1-\(ToolPin.maximumNameBytes) bytes without U+0000")
        }
    }
}
