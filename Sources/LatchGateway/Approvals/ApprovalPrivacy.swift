public import LatchAudit
public import LatchCore
import LatchGrants
public import LatchIdentity

/// What a held call's approval keeps for the person deciding, sealed: its arguments (always) and
/// its prompt (when the call carried one).
///
/// A sealed value is base64url (no padding) of AES-256-GCM `nonce ‖ ciphertext ‖ tag` under the
/// approval subkey of the ledger's value key (``LedgerValueKey/Purpose/approval``, HKDF info
/// `latch.approval.value-seal.v1`), with additional authenticated data `latch.approval.v1`, 0,
/// the field name (`arguments`, `prompt`), 0, the approval's ID: a blob moved to another
/// approval, or to the other field, does not open, and neither does a record's blob.
public struct ApprovalPrivacy: Sendable {
    public let key: LedgerValueKey

    public init(key: LedgerValueKey) { self.key = key }

    public init(ledgerKey: LedgerKey) { self.key = ledgerKey.valueKey }

    public func sealArguments(_ arguments: JSONValue, approvalID: String) throws(LatchError) -> String {
        Base64URL.encode(try self.key.seal(arguments.serializedBytes, context: Self.context("arguments", approvalID), purpose: .approval))
    }

    public func sealPrompt(_ prompt: String, approvalID: String) throws(LatchError) -> String {
        Base64URL.encode(try self.key.seal(Array(prompt.utf8), context: Self.context("prompt", approvalID), purpose: .approval))
    }

    /// The held call's arguments; nil when none were kept; an error when they do not open.
    public func openArguments(of approval: Approval) throws(LatchError) -> JSONValue? {
        guard let sealed = approval.argumentsSealed else { return nil }
        guard let arguments = JSONValue(parsing: try self.open(sealed, field: "arguments", id: approval.id)) else {
            throw LatchError(.invalidInput, "approval \(approval.id.prefix(64)): the sealed arguments are not JSON")
        }
        return arguments
    }

    /// The held call's prompt; nil when it carried none; an error when it does not open.
    public func openPrompt(of approval: Approval) throws(LatchError) -> String? {
        guard let sealed = approval.promptSealed else { return nil }
        return String(decoding: try self.open(sealed, field: "prompt", id: approval.id), as: UTF8.self)
    }

    private func open(_ sealed: String, field: String, id: String) throws(LatchError) -> [UInt8] {
        guard let bytes = Base64URL.decode(Array(sealed.utf8)),
            let plaintext = self.key.open(bytes, context: Self.context(field, id), purpose: .approval)
        else {
            throw LatchError(
                .invalidInput,
                "approval \(id.prefix(64)): the sealed \(field) does not open: sealed for another approval or field, under another ledger key, or altered"
            )
        }
        return plaintext
    }

    static func context(_ field: String, _ id: String) -> [UInt8] {
        Array("latch.approval.v1".utf8) + [0] + Array(field.utf8) + [0] + Array(id.utf8)
    }
}

/// The `risk` an approval shows the person deciding: a small JSON object with no argument value.
///
/// ```json
/// {"labels": {"sensitivity": "confidential", "data_domain": "finance", "egress": "external",
///             "side_effects": "write", "untrusted": false},
///  "destination": "bob@example.com", "tainted_arguments": ["iban"],
///  "reason": "payments to a new payee", "policies": ["new-payee", "guard/…"]}
/// ```
/// `data_domain` and `destination` are left out when there is none; for HTTP egress the object
/// also has `http: {method}` (the path and query are arguments: sealed, with the rest of the
/// request, in the approval's `arguments_sealed`).
public enum ApprovalRisk {
    public static func json(
        labels: ToolLabels?, destination: String?, taintedArguments: [String], hold: Approvable, httpMethod: String? = nil
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "tainted_arguments": .array(taintedArguments.sorted().map(JSONValue.string)),
            "reason": .string(hold.reason), "policies": .array(hold.policies.map(JSONValue.string)),
        ]
        if let labels {
            var described: [String: JSONValue] = [
                "sensitivity": .string(labels.sensitivity.rawValue), "egress": .string(labels.egress.rawValue),
                "side_effects": .string(labels.sideEffects.rawValue), "untrusted": .bool(labels.untrusted),
            ]
            if let domain = labels.dataDomain { described["data_domain"] = .string(domain) }
            object["labels"] = .object(described)
        }
        if let destination { object["destination"] = .string(destination) }
        if let httpMethod { object["http"] = .object(["method": .string(httpMethod)]) }
        return .object(object)
    }
}
