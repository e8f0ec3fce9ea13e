/// Which CA key a slot holds.
public enum KeyPurpose: String, Hashable, Sendable, CaseIterable {
    /// The trust domain's X.509 CA key (signs X.509-SVIDs; its certificate is in the bundle).
    case x509Authority = "x509-authority"
    /// The key that signs JWT-SVIDs (its public key is in the bundle and the JWKS).
    case jwtSigning = "jwt-signing"
}

/// Where a key is in its life: prepared → published (in bundles, not yet signing) → active → retired
/// (no longer signing; still published until everything it signed has expired).
public enum KeyState: String, Hashable, Sendable, CaseIterable {
    case prepared, published, active, retired
}

/// A CA key as persisted: the private key sealed (AES-GCM under the key-encryption key), never clear.
public struct StoredKey: Hashable, Sendable {
    /// Key ID (`kid` in JWKS; also names the X.509 authority).
    public var keyID: String
    public var purpose: KeyPurpose
    public var state: KeyState
    /// `nonce ‖ ciphertext ‖ tag` of the PKCS#8/raw private key; see `KeySealer`.
    public var sealedPrivateKey: [UInt8]
    /// DER of the CA certificate for `.x509Authority` keys; nil for JWT keys.
    public var certificateDER: [UInt8]?
    /// Validity, milliseconds since the Unix epoch.
    public var notBefore: Int64
    public var notAfter: Int64
    public var createdAt: Int64

    public init(keyID: String, purpose: KeyPurpose, state: KeyState, sealedPrivateKey: [UInt8], certificateDER: [UInt8]?,
                notBefore: Int64, notAfter: Int64, createdAt: Int64) {
        self.keyID = keyID
        self.purpose = purpose
        self.state = state
        self.sealedPrivateKey = sealedPrivateKey
        self.certificateDER = certificateDER
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.createdAt = createdAt
    }
}

/// Where CA keys live.
public protocol KeyRepository: Sendable {
    /// Inserts or replaces the key with this `keyID`.
    func saveKey(_ key: StoredKey) async throws
    /// All keys of a purpose, oldest first.
    func keys(purpose: KeyPurpose) async throws -> [StoredKey]
    /// Moves a key from one state to another only if it is still in `from` (compare-and-set, so
    /// two nodes rotating at once cannot both win); returns whether it moved.
    func transitionKey(keyID: String, from: KeyState, to: KeyState) async throws -> Bool
    /// Deletes retired keys whose `notAfter` is before `before`; returns how many.
    func deleteExpiredKeys(before: Int64) async throws -> Int
    /// A counter of changes to keys, shared by every handle on the same storage: it grows in the
    /// same transaction as every ``saveKey(_:)``, every ``transitionKey(keyID:from:to:)`` that
    /// moved and every ``deleteExpiredKeys(before:)`` that deleted something, and at no other
    /// time. Keys read while the counter stays the same are the keys of that revision, so it is
    /// the trust bundle's `spiffe_sequence` (see ``IdentityService/bundleSequence``).
    func keysRevision() async throws -> Int64
}
