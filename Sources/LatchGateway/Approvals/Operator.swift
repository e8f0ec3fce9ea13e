import Crypto
public import LatchCore
import LatchIdentity

/// A person who decides approvals through the admin API (`latch operator add NAME`): a name and
/// the SHA-256 of a random bearer token. The token is shown once, when the operator is added;
/// only its digest is stored.
///
/// Invariants (checked by ``validate()``): the name is as ``Approval/validateDecider(_:note:)``
/// requires of who decides; the digest is 32 bytes.
public struct Operator: Hashable, Sendable {
    public var name: String
    public var tokenSHA256: [UInt8]
    /// Unix milliseconds.
    public var createdAt: Int64

    public init(name: String, tokenSHA256: [UInt8], createdAt: Int64) {
        self.name = name
        self.tokenSHA256 = tokenSHA256
        self.createdAt = createdAt
    }

    /// Bytes of randomness in a token (256 bits), written as base64url with the prefix ``tokenPrefix``.
    public static let tokenBytes = 32
    public static let tokenPrefix = "latch_op_"

    /// A new random token (`latch_op_` + 43 base64url characters).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<Self.tokenBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Self.tokenPrefix + Base64URL.encode(bytes)
    }

    /// The digest stored for `token`.
    public static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// The operator whose stored digest equals the digest of `token`, comparing every operator's
    /// digest in full (constant time per digest, no early exit), so the answer's timing tells
    /// nothing about how close a wrong token came.
    public static func authenticate(_ token: String, among operators: [Operator]) -> Operator? {
        let presented = Self.digest(token)
        var found: Operator?
        for candidate in operators {
            guard candidate.tokenSHA256.count == presented.count else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(candidate.tokenSHA256, presented) { difference |= a ^ b }
            if difference == 0 { found = candidate }
        }
        return found
    }

    public func validate() throws(LatchError) {
        try Approval.validateDecider(self.name, note: nil)
        guard self.tokenSHA256.count == 32 else { throw LatchError(.invalidInput, "an operator's token digest must be 32 bytes") }
    }
}

/// Where operators are kept: implemented by every store (SQLite, PostgreSQL, in memory).
public protocol OperatorRepository: Sendable {
    /// Stores a new operator; false (nothing changed) when the name is taken.
    func addOperator(_ operator: Operator) async throws -> Bool
    /// Every operator, by name.
    func operators() async throws -> [Operator]
    /// Removes the operator named `name`; whether there was one.
    func removeOperator(name: String) async throws -> Bool
}
