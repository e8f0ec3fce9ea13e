/// A one-time join token as stored: only its SHA-256, never the token itself.
public struct StoredJoinToken: Hashable, Sendable {
    public var tokenHash: [UInt8]
    /// The SPIFFE ID (as text) or selector the token attests to, e.g. `join_token:<id>`.
    public var selectorValue: String
    public var expiresAt: Int64
    public var createdAt: Int64

    public init(tokenHash: [UInt8], selectorValue: String, expiresAt: Int64, createdAt: Int64) {
        self.tokenHash = tokenHash
        self.selectorValue = selectorValue
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }
}

/// Where join tokens live.
public protocol JoinTokenRepository: Sendable {
    func createJoinToken(_ token: StoredJoinToken) async throws
    /// Atomically removes and returns the token with this hash if it exists and has not expired at
    /// `now`; a second call with the same hash returns nil (one-time use, also across nodes).
    func consumeJoinToken(hash: [UInt8], now: Int64) async throws -> StoredJoinToken?
    /// Deletes expired tokens; returns how many.
    func deleteExpiredJoinTokens(now: Int64) async throws -> Int
}

/// Everything the identity layer persists, as one value handed to services.
public protocol IdentityStore: RegistrationRepository, KeyRepository, JoinTokenRepository {}
