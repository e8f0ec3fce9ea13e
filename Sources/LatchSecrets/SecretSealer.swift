public import LatchCore
public import LatchIdentity

/// Seals and opens secret values with AES-256-GCM under the ``KeyEncryptionKey``, as CA keys are
/// sealed (`KeySealer`).
///
/// The associated data is a purpose tag and the secret's name, so a sealed value copied onto
/// another name's row, or a sealed CA key copied into the secrets table, fails to open.
/// Format: `nonce (12) ‖ ciphertext ‖ tag (16)`.
///
/// - Important: values go in and come out as ``Redacted``; no error carries a value or its length.
public struct SecretSealer: Sendable {
    /// The longest value accepted, in bytes (64 KiB).
    public static let maximumValueBytes = 65_536
    /// What sealing adds: the 12-byte nonce and the 16-byte tag.
    public static let overheadBytes = 28

    let kek: KeyEncryptionKey

    public init(kek: KeyEncryptionKey) { self.kek = kek }

    static func associatedData(name: SecretName) -> [UInt8] {
        Array("latch.secret.v1\u{0}\(name.text)".utf8)
    }

    /// Seals `value` (1 to ``maximumValueBytes`` bytes) for the secret `name`.
    public func seal(_ value: Redacted<[UInt8]>, name: SecretName) throws(LatchError) -> [UInt8] {
        let count = value.unredacted.count
        guard count > 0 else { throw LatchError(.invalidInput, "the value of secret \(name) is empty") }
        guard count <= Self.maximumValueBytes else {
            throw LatchError(.invalidInput, "the value of secret \(name) is longer than \(Self.maximumValueBytes) bytes")
        }
        return try self.kek.seal(value.unredacted, authenticating: Self.associatedData(name: name))
    }

    /// Opens what ``seal(_:name:)`` made for the same `name` under the same KEK.
    ///
    /// Throws `unsealFailed` for a wrong KEK, a blob sealed for another name, or one that was
    /// altered or truncated.
    public func open(_ sealed: some Collection<UInt8>, name: SecretName) throws(LatchError) -> Redacted<[UInt8]> {
        guard let value = self.kek.open(sealed, authenticating: Self.associatedData(name: name)) else {
            throw LatchError(
                .unsealFailed,
                "the sealed secret \(name) does not open under this key-encryption key (wrong key, altered, or moved from another name)")
        }
        return Redacted(value)
    }
}
