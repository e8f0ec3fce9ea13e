import Crypto
public import LatchAudit
public import LatchCore
public import LatchIdentity

/// The ledger's two keys, opened: the MAC key every append uses and the checkpoint signing key.
///
/// Stored in `ledger_keys` sealed with AES-256-GCM under the key-encryption key, each blob bound
/// to its role by the associated data (as the CA keys are); the public half of the signing key
/// and its signed-note name are stored clear and published at `GET /ledger/key`.
public struct LedgerKeyring: Sendable {
    public let mac: LedgerKey
    public let signer: CheckpointSigner

    static func associatedData(_ role: String) -> [UInt8] { Array("latch.ledger-key.v1\u{0}\(role)".utf8) }

    /// The signed-note key name (and checkpoint origin) of a trust domain's ledger.
    public static func keyName(trustDomain: TrustDomain) -> String { "\(trustDomain)/latch/ledger" }

    /// The stored keys, opened; created and stored first when there are none (of two nodes
    /// creating them at once, both end up with the first's).
    public static func loadOrCreate(
        store: any LedgerRepository, kek: KeyEncryptionKey, keyName: String, clock: any WallClock
    ) async throws -> LedgerKeyring {
        if let stored = try await store.ledgerKeys() { return try Self.open(stored, kek: kek) }
        let mac = LedgerKey.generate()
        let signing = P256.Signing.PrivateKey()
        let candidate = StoredLedgerKeys(
            keyName: keyName, sealedMACKey: try kek.seal(mac.unredactedBytes, authenticating: Self.associatedData("mac")),
            sealedSigningKey: try kek.seal(Array(signing.rawRepresentation), authenticating: Self.associatedData("checkpoint")),
            publicKey: Array(signing.publicKey.derRepresentation), createdAt: clock.now().milliseconds)
        return try Self.open(try await store.saveLedgerKeys(candidate), kek: kek)
    }

    /// The stored keys, opened; nil when none were created yet.
    public static func load(store: any LedgerRepository, kek: KeyEncryptionKey) async throws -> LedgerKeyring? {
        guard let stored = try await store.ledgerKeys() else { return nil }
        return try Self.open(stored, kek: kek)
    }

    /// Opens stored keys with the KEK.
    public static func open(_ stored: StoredLedgerKeys, kek: KeyEncryptionKey) throws -> LedgerKeyring {
        guard let macBytes = kek.open(stored.sealedMACKey, authenticating: Self.associatedData("mac")),
            let signingBytes = kek.open(stored.sealedSigningKey, authenticating: Self.associatedData("checkpoint"))
        else {
            throw LatchError(.unsealFailed, "the ledger keys do not open under this key-encryption key")
        }
        let signing: P256.Signing.PrivateKey
        do { signing = try P256.Signing.PrivateKey(rawRepresentation: signingBytes) } catch {
            throw LatchError(.internalError, "the stored ledger signing key is not a P-256 key")
        }
        let signer = try CheckpointSigner(keyName: stored.keyName, privateKey: signing)
        guard signer.verifier.publicKeyDER == stored.publicKey else {
            throw LatchError(.internalError, "the stored ledger public key is not the signing key's")
        }
        return LedgerKeyring(mac: try LedgerKey(bytes: macBytes), signer: signer)
    }

    /// The checkpoint verifier from the stored public key alone (no KEK needed).
    public static func verifier(_ stored: StoredLedgerKeys) throws -> CheckpointVerifier {
        try CheckpointVerifier(keyName: stored.keyName, publicKeyDER: stored.publicKey)
    }
}
