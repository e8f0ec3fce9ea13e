public import LatchAudit
public import LatchCore
public import LatchIdentity

/// How decision records keep prompts and arguments without revealing them: keyed hashes for
/// matching, and the text itself only when configured, then encrypted. Both under the ledger's
/// value key (``LedgerValueKey``, derived from the ledger MAC key).
///
/// Keyed hashes are lowercase hex HMAC-SHA256 under the hash subkey of a domain tag, a zero
/// byte, and the value's bytes, so equal values in different fields do not match each other:
/// - `prompt_hmac`: tag `prompt`, the prompt's UTF-8;
/// - `arguments_hmac`: tag `arguments`, the canonical JSON (RFC 8785) of the call's arguments
///   object (for HTTP egress: `{method, path, query, body_sha256}`);
/// - `argument_hmacs[name]`: tag `argument`, the canonical JSON of that argument's value (the
///   argument name is not hashed: the key of the map says which argument it was).
///
/// Sealed values (`prompt_sealed`, `arguments_sealed`) are base64url (no padding) of AES-256-GCM
/// `nonce ‖ ciphertext ‖ tag` under the seal subkey; the additional authenticated data is
/// `latch.record.v1`, 0, the field name, 0, the record's ID, so a blob copied into another
/// record, or into the other field, does not open.
///
/// Matching (for `latch audit show` and `latch audit query --argument NAME=VALUE --prompt TEXT`):
/// ``matches(_:argument:typed:)`` and ``matches(_:prompt:)``; ``argumentHMACs(typed:)`` gives the
/// keyed hashes a typed value may have been recorded under.
public struct RecordPrivacy: Sendable {
    public let key: LedgerValueKey

    public init(key: LedgerValueKey) { self.key = key }

    /// Privacy under the value key derived from `ledgerKey`.
    public init(ledgerKey: LedgerKey) { self.key = ledgerKey.valueKey }

    // MARK: Keyed hashes

    public func promptHMAC(_ prompt: String) -> String { self.hmac("prompt", Array(prompt.utf8)) }

    public func argumentsHMAC(_ arguments: JSONValue) -> String { self.hmac("arguments", arguments.serializedBytes) }

    /// The keyed hash of one argument's value (whatever the argument's name).
    public func argumentHMAC(_ value: JSONValue) -> String { self.hmac("argument", value.serializedBytes) }

    /// The keyed hashes of the `selected` arguments present in `arguments`.
    public func argumentHMACs(_ arguments: [String: JSONValue], selected: some Sequence<String>) -> [String: String] {
        var hashes: [String: String] = [:]
        for name in selected {
            if let value = arguments[name] { hashes[name] = self.argumentHMAC(value) }
        }
        return hashes
    }

    /// The keyed hashes a value typed by an investigator may have been recorded under: the
    /// value read as JSON when it is JSON (`100`, `true`, `"x"`, `[1,2]`), and as a plain string
    /// (so `DE89…` and `123` both match a string argument).
    public func argumentHMACs(typed text: String) -> Set<String> {
        var hashes: Set<String> = [self.argumentHMAC(.string(text))]
        if let parsed = JSONValue(parsing: Array(text.utf8)) { hashes.insert(self.argumentHMAC(parsed)) }
        return hashes
    }

    /// Whether `record` holds the typed value as its selected argument `name`.
    public func matches(_ record: DecisionRecord, argument name: String, typed text: String) -> Bool {
        guard let recorded = record.argumentHMACs[name] else { return false }
        return self.argumentHMACs(typed: text).contains(recorded)
    }

    /// Whether `record`'s prompt is exactly `prompt`.
    public func matches(_ record: DecisionRecord, prompt: String) -> Bool {
        record.promptHMAC == self.promptHMAC(prompt)
    }

    // MARK: Sealed values

    public func sealPrompt(_ prompt: String, recordID: String) throws(LatchError) -> String {
        Base64URL.encode(try self.key.seal(Array(prompt.utf8), context: Self.context("prompt", recordID)))
    }

    public func sealArguments(_ arguments: JSONValue, recordID: String) throws(LatchError) -> String {
        Base64URL.encode(try self.key.seal(arguments.serializedBytes, context: Self.context("arguments", recordID)))
    }

    /// The record's prompt, nil when it was not kept; an error when the sealed prompt does not
    /// open (another key, another record's blob, altered).
    public func openPrompt(of record: DecisionRecord) throws(LatchError) -> String? {
        guard let sealed = record.promptSealed else { return nil }
        return String(decoding: try self.open(sealed, field: "prompt", recordID: record.id), as: UTF8.self)
    }

    /// The record's arguments, nil when they were not kept; an error as ``openPrompt(of:)``.
    public func openArguments(of record: DecisionRecord) throws(LatchError) -> JSONValue? {
        guard let sealed = record.argumentsSealed else { return nil }
        guard let arguments = JSONValue(parsing: try self.open(sealed, field: "arguments", recordID: record.id)) else {
            throw LatchError(.invalidInput, "record \(record.id): the sealed arguments are not JSON")
        }
        return arguments
    }

    private func open(_ sealed: String, field: String, recordID: String) throws(LatchError) -> [UInt8] {
        guard let bytes = Base64URL.decode(Array(sealed.utf8)) else {
            throw LatchError(.invalidInput, "record \(recordID): \(field)_sealed is not base64url")
        }
        guard let plaintext = self.key.open(bytes, context: Self.context(field, recordID)) else {
            throw LatchError(
                .invalidInput,
                "record \(recordID): \(field)_sealed does not open: it was sealed for another record or field, under another ledger key, or altered")
        }
        return plaintext
    }

    private func hmac(_ tag: String, _ bytes: [UInt8]) -> String {
        hexString(self.key.hmac(Array(tag.utf8) + [0] + bytes))
    }

    static func context(_ field: String, _ recordID: String) -> [UInt8] {
        Array("latch.record.v1".utf8) + [0] + Array(field.utf8) + [0] + Array(recordID.utf8)
    }
}
