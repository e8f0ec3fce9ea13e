public import LatchCore
public import LatchIdentity

/// Secrets by name over a ``SecretRepository``: sets them sealed under the key-encryption key and
/// opens them for templates (it is a ``SecretResolver``).
///
/// Listing and deleting need no key: use the repository for those.
public struct SecretStore: SecretResolver {
    public let repository: any SecretRepository
    let sealer: SecretSealer
    let clock: any WallClock

    public init(repository: any SecretRepository, kek: KeyEncryptionKey, clock: any WallClock = SystemWallClock()) {
        self.repository = repository
        self.sealer = SecretSealer(kek: kek)
        self.clock = clock
    }

    /// Seals `value` for `name` and saves it, replacing any value the name had. Returns whether
    /// the name was new.
    @discardableResult
    public func set(_ name: SecretName, to value: Redacted<[UInt8]>) async throws -> Bool {
        let sealed = try self.sealer.seal(value, name: name)
        let now = self.clock.now().milliseconds
        return try await self.repository.saveSecret(StoredSecret(name: name, sealedValue: sealed, createdAt: now, updatedAt: now))
    }

    /// The value of `name`, or nil if there is none; `unsealFailed` if it does not open.
    public func secretValue(named name: SecretName) async throws -> Redacted<[UInt8]>? {
        guard let stored = try await self.repository.secret(named: name) else { return nil }
        return try self.sealer.open(stored.sealedValue, name: stored.name)
    }
}
