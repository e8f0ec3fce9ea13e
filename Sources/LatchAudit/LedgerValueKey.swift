import Crypto
public import LatchCore

/// The keys that protect values inside records (prompts, tool-call arguments), derived from the
/// ledger's MAC key so no new key is stored: HKDF-SHA256 (RFC 5869) with the MAC key as input
/// keying material, an empty salt, 32-byte outputs, and one `info` string per use:
/// - ``hashInfo`` (`latch.ledger.value-hmac.v1`): the key of keyed hashes (HMAC-SHA256) of values,
///   so whoever holds the key can test whether a record holds a value they already know, while
///   the record alone does not give it away (a plain SHA-256 of a guessable value can be brute-forced);
/// - ``sealInfo`` (`latch.ledger.value-seal.v1`): the AES-256-GCM key of values kept only when
///   configured, and then encrypted;
/// - ``approvalSealInfo`` (`latch.approval.value-seal.v1`): the AES-256-GCM key of the arguments
///   and prompt a held call's approval keeps for the person deciding (``Purpose/approval``), apart
///   from the records' key so that neither kind of blob opens as the other.
///
/// - Important: anyone holding the KEK can open the ledger's MAC key and hence derive these.
///   The keys are held in ``Redacted`` and never printed.
public struct LedgerValueKey: Sendable {
    public static let hashInfo = "latch.ledger.value-hmac.v1"
    public static let sealInfo = "latch.ledger.value-seal.v1"
    public static let approvalSealInfo = "latch.approval.value-seal.v1"

    /// Which seal subkey: records' values, or approvals'.
    public enum Purpose: Sendable {
        case record, approval
    }
    /// Bytes a sealed value adds to its plaintext: a 12-byte nonce and a 16-byte tag.
    public static let sealOverhead = 28

    private let hashKey: Redacted<SymmetricKey>
    private let sealKey: Redacted<SymmetricKey>
    private let approvalSealKey: Redacted<SymmetricKey>

    /// Derives both subkeys from the ledger's MAC key.
    public init(deriving ledgerKey: LedgerKey) {
        let material = ledgerKey.key.unredacted
        self.hashKey = Redacted(
            HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: [UInt8](), info: Array(Self.hashInfo.utf8), outputByteCount: 32))
        self.sealKey = Redacted(
            HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: [UInt8](), info: Array(Self.sealInfo.utf8), outputByteCount: 32))
        self.approvalSealKey = Redacted(
            HKDF<SHA256>.deriveKey(inputKeyMaterial: material, salt: [UInt8](), info: Array(Self.approvalSealInfo.utf8), outputByteCount: 32))
    }

    private func sealKey(_ purpose: Purpose) -> SymmetricKey {
        switch purpose {
        case .record: self.sealKey.unredacted
        case .approval: self.approvalSealKey.unredacted
        }
    }

    /// HMAC-SHA256 of `bytes` under the hash subkey.
    public func hmac(_ bytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: self.hashKey.unredacted))
    }

    /// AES-256-GCM under the seal subkey of `purpose` with a random 96-bit nonce: `nonce ‖ ciphertext ‖ tag`.
    /// `context` is authenticated, not encrypted: the blob opens only with the same context.
    public func seal(_ plaintext: [UInt8], context: [UInt8], purpose: Purpose = .record) throws(LatchError) -> [UInt8] {
        do {
            guard let combined = try AES.GCM.seal(plaintext, using: self.sealKey(purpose), authenticating: context).combined else {
                throw LatchError(.internalError, "AES-GCM produced no combined form")
            }
            return Array(combined)
        } catch let error as LatchError {
            throw error
        } catch {
            throw LatchError(.internalError, "a value could not be sealed")
        }
    }

    /// The plaintext of a ``seal(_:context:)`` blob, or nil when it was not sealed under this key
    /// with this `context` (or was altered).
    public func open(_ sealed: [UInt8], context: [UInt8], purpose: Purpose = .record) -> [UInt8]? {
        guard sealed.count >= Self.sealOverhead, let box = try? AES.GCM.SealedBox(combined: sealed) else { return nil }
        guard let plaintext = try? AES.GCM.open(box, using: self.sealKey(purpose), authenticating: context) else { return nil }
        return Array(plaintext)
    }
}

extension LedgerKey {
    /// The value keys derived from this MAC key (see ``LedgerValueKey``).
    public var valueKey: LedgerValueKey { LedgerValueKey(deriving: self) }
}
