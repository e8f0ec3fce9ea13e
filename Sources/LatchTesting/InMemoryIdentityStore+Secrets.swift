import LatchCore
public import LatchSecrets
import LatchStoreSupport
import Synchronization

extension InMemoryIdentityStore: SecretRepository {
    @discardableResult
    public func saveSecret(_ secret: StoredSecret) async throws -> Bool {
        try StoreValidation.validate(secret)
        return self.state.withLock { state in
            var saved = secret
            let existing = state.secrets[secret.name]
            if let existing { saved.createdAt = existing.createdAt }
            state.secrets[secret.name] = saved
            state.secretsRevision += 1
            return existing == nil
        }
    }

    public func secret(named name: SecretName) async throws -> StoredSecret? { self.state.withLock { $0.secrets[name] } }

    public func listSecrets() async throws -> [SecretMetadata] {
        self.state.withLock { state in state.secrets.values.map(\.metadata).sorted { $0.name < $1.name } }
    }

    public func deleteSecret(named name: SecretName) async throws -> Bool {
        self.state.withLock { state in
            guard state.secrets.removeValue(forKey: name) != nil else { return false }
            state.secretsRevision += 1
            return true
        }
    }

    public func secretsRevision() async throws -> Int64 { self.state.withLock { $0.secretsRevision } }
}
