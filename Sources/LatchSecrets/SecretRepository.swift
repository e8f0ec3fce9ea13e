/// A secret as persisted: its value sealed (AES-256-GCM under the key-encryption key, bound to
/// its name; see ``SecretSealer``), never clear.
public struct StoredSecret: Hashable, Sendable {
    public var name: SecretName
    /// `nonce (12) ‖ ciphertext ‖ tag (16)`, from ``SecretSealer/seal(_:name:)``.
    public var sealedValue: [UInt8]
    /// When the name was first set, milliseconds since the Unix epoch.
    public var createdAt: Int64
    /// When the value was last set, milliseconds since the Unix epoch.
    public var updatedAt: Int64

    public init(name: SecretName, sealedValue: [UInt8], createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.sealedValue = sealedValue
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The most bytes a sealed value may have: the largest value plus the nonce and tag.
    public static let maximumSealedBytes = SecretSealer.maximumValueBytes + SecretSealer.overheadBytes

    /// Name and times, without the sealed value.
    public var metadata: SecretMetadata { SecretMetadata(name: self.name, createdAt: self.createdAt, updatedAt: self.updatedAt) }
}

/// What `latch secret list` shows of a secret: its name and times, never its value.
public struct SecretMetadata: Hashable, Sendable {
    public var name: SecretName
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(name: SecretName, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where sealed secrets live. Implemented by `LatchSQLite` and `LatchPostgres` (and the in-memory
/// store of `LatchTesting`); the shared conformance suite says what each must do.
///
/// The repository sees only sealed values: sealing and opening happen in ``SecretStore``.
public protocol SecretRepository: Sendable {
    /// Inserts the secret, or replaces the sealed value and `updatedAt` of the one with the same
    /// name (its `createdAt` stays). Durable when it returns. Returns whether the name was new.
    /// A sealed value that is empty or longer than ``StoredSecret/maximumSealedBytes`` is
    /// `invalidInput`.
    @discardableResult
    func saveSecret(_ secret: StoredSecret) async throws -> Bool
    func secret(named name: SecretName) async throws -> StoredSecret?
    /// Every secret's name and times, ordered by name (bytewise).
    func listSecrets() async throws -> [SecretMetadata]
    /// Deletes a secret; returns whether it existed.
    func deleteSecret(named name: SecretName) async throws -> Bool
    /// A counter shared by every handle on the same storage that grows in the same transaction
    /// as every ``saveSecret(_:)`` and every ``deleteSecret(named:)`` that deleted something, and
    /// at no other time: a running server reloads what it caches when it moves.
    func secretsRevision() async throws -> Int64
}
