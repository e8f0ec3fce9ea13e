import Crypto
public import LatchCore

/// One-time join tokens: 32 random bytes shown once, stored only as their SHA-256, consumed
/// atomically (the repository removes and returns the row in one step, also across nodes).
///
/// A consumed token attests the selector `join_token:<selectorValue>`.
public struct JoinTokenAuthority: Sendable {
    public let repository: any JoinTokenRepository
    /// Prefix that makes leaked tokens easy to recognise by secret scanners.
    public static let prefix = "latchjt_"

    public init(repository: any JoinTokenRepository) { self.repository = repository }

    static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Creates a token valid for `ttl` milliseconds. The token is returned once, redacted.
    public func create(selectorValue: String, ttl: Int64, now: Int64) async throws -> Redacted<String> {
        guard !selectorValue.isEmpty else { throw LatchError(.invalidInput, "a join token needs a selector value") }
        guard ttl > 0 else { throw LatchError(.invalidInput, "a join token needs a positive TTL") }
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &random) }
        let token = Self.prefix + Base64URL.encode(bytes)
        try await self.repository.createJoinToken(
            StoredJoinToken(tokenHash: Self.hash(token), selectorValue: selectorValue, expiresAt: now + ttl, createdAt: now))
        return Redacted(token)
    }

    /// Consumes a token; returns its selector, or throws `invalidJoinToken` when it is unknown,
    /// expired or already used (one message for all three, so a caller learns nothing).
    public func consume(_ token: Redacted<String>, now: Int64) async throws -> Selector {
        let text = token.unredacted
        guard text.utf8.count < 256, text.hasPrefix(Self.prefix) else {
            throw LatchError(.invalidJoinToken, "the join token is not valid")
        }
        // Lookup is by hash of a 256-bit random secret: no timing leak about the stored value.
        guard let stored = try await self.repository.consumeJoinToken(hash: Self.hash(text), now: now),
            constantTimeEquals(stored.tokenHash, Self.hash(text))
        else {
            throw LatchError(.invalidJoinToken, "the join token is not valid")
        }
        return Selector(type: "join_token", value: stored.selectorValue)
    }
}
