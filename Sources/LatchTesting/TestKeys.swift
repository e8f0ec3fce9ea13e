public import Crypto
public import LatchCore
public import LatchIdentity
import Synchronization

/// Deterministic keys and fixtures for identity tests: the same bytes every run.
public enum TestKeys {
    /// A P-256 private key derived from `seed` (SHA-256 of a label, reduced into range by retrying).
    public static func p256(_ seed: String) -> P256.Signing.PrivateKey {
        var material = Array(SHA256.hash(data: Array("latch-test-key:\(seed)".utf8)))
        while true {
            if let key = try? P256.Signing.PrivateKey(rawRepresentation: material) { return key }
            material = Array(SHA256.hash(data: material))
        }
    }

    /// A fixed 32-byte key-encryption key.
    public static let kek: KeyEncryptionKey = {
        let bytes = Array(SHA256.hash(data: Array("latch-test-kek".utf8)))
        // 32 bytes: cannot fail.
        return (try? KeyEncryptionKey(bytes: bytes)) ?? KeyEncryptionKey.generate()
    }()

    public static let trustDomain: TrustDomain = (try? TrustDomain(parsing: "example.org")) ?? { fatalError("fixture") }()

    /// `2026-01-01T00:00:00Z` in milliseconds.
    public static let epoch: Int64 = 1_767_225_600_000

    /// An active X.509 authority for `example.org`, valid for `lifetime` from `now`.
    public static func x509Authority(
        seed: String = "x509-ca", now: Int64 = epoch, lifetime: Int64 = 86_400_000,
        trustDomain: TrustDomain = trustDomain
    ) -> CAKey {
        activeKey(.x509Authority, seed: seed, now: now, lifetime: lifetime, trustDomain: trustDomain)
    }

    /// An active JWT signing key.
    public static func jwtKey(
        seed: String = "jwt", now: Int64 = epoch, lifetime: Int64 = 86_400_000,
        trustDomain: TrustDomain = trustDomain
    ) -> CAKey {
        activeKey(.jwtSigning, seed: seed, now: now, lifetime: lifetime, trustDomain: trustDomain)
    }

    /// An active key of `purpose` from a deterministic private key.
    private static func activeKey(
        _ purpose: KeyPurpose, seed: String, now: Int64, lifetime: Int64, trustDomain: TrustDomain
    ) -> CAKey {
        // Fixed inputs; generation failing would be a bug in the fixture.
        guard
            var key = try? CAKey.generate(
                purpose: purpose, trustDomain: trustDomain, now: now, lifetime: lifetime, privateKey: p256(seed))
        else { fatalError("test \(purpose.rawValue) key fixture") }
        key.state = .active
        return key
    }
}

/// A JWKS fetcher that serves fixed documents and counts fetches.
public final class FakeJWKSFetcher: JWKSFetcher, Sendable {
    private let documents: Mutex<[String: [UInt8]]>
    private let count = Mutex(0)

    public init(_ documents: [String: [UInt8]] = [:]) { self.documents = Mutex(documents) }

    public func set(url: String, jwks: [UInt8]) { self.documents.withLock { $0[url] = jwks } }
    public var fetches: Int { self.count.withLock { $0 } }

    public func fetchJWKS(url: String) async throws -> [UInt8] {
        self.count.withLock { $0 += 1 }
        guard let doc = self.documents.withLock({ $0[url] }) else { throw LatchError(.notFound, "no JWKS at \(url)") }
        return doc
    }
}
