public import LatchCore

/// The name of a sealed secret, e.g. `crm_token`: what templates (`${secret:crm_token}`) and
/// `latch secret` refer to it by.
///
/// Invariants (checked by ``init(parsing:)``, relied on everywhere else): 1 to 128 characters of
/// `[A-Za-z0-9._-]` (ASCII, so characters are bytes and names order the same everywhere).
public struct SecretName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest name accepted, in characters (bytes).
    public static let maximumLength = 128

    /// The name as text.
    public let text: String

    /// Validates `text` as a secret name.
    ///
    /// - Important: the error does not repeat the text: a value pasted where a name belongs must
    ///   not end up in an error message or a log.
    public init(parsing text: some StringProtocol) throws(LatchError) {
        let utf8 = text.utf8
        guard (1...Self.maximumLength).contains(utf8.count), utf8.allSatisfy(Self.isNameByte) else {
            throw LatchError(.invalidInput, "a secret name must be 1-\(Self.maximumLength) characters of [A-Za-z0-9._-]")
        }
        self.text = String(text)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    public var description: String { self.text }

    /// Byte order (names are ASCII), the order the stores list them in.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8) }
}
