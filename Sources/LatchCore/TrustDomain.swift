/// A SPIFFE trust domain name, e.g. `example.org`.
///
/// Invariants (checked by ``init(parsing:)``, relied on everywhere else):
/// - non-empty, at most 255 bytes;
/// - only lowercase letters, digits, `.`, `-` and `_` (SPIFFE-ID.md §2.1: no uppercase, no port,
///   no user information).
public struct TrustDomain: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The trust domain name, without scheme.
    public let name: String

    /// The longest trust domain name accepted, in bytes.
    public static let maxLength = 255

    /// Parses a bare trust domain name (`example.org`) or the SPIFFE ID of the trust domain
    /// itself (`spiffe://example.org`, no path).
    public init(parsing text: some StringProtocol) throws(LatchError) {
        let string = String(text)
        if string.utf8.starts(with: "spiffe://".utf8) || string.contains("://") {
            let id = try SPIFFEID(parsing: string)
            guard id.path.isEmpty else {
                throw LatchError(.badTrustDomainChar, "a trust domain has no path; got a SPIFFE ID with one")
            }
            self = id.trustDomain
            return
        }
        try Self.validate(name: string.utf8)
        self.name = string
    }

    /// Skips validation: only for names already checked (a substring `SPIFFEID` validated, a
    /// literal such as the default `latch.local`).
    public init(unchecked name: String) { self.name = name }

    /// `spiffe://<name>`: the SPIFFE ID that names the trust domain itself.
    public var idString: String { "spiffe://" + self.name }

    public var description: String { self.name }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }

    static func validate(name bytes: some Collection<UInt8>) throws(LatchError) {
        if bytes.isEmpty { throw LatchError(.missingTrustDomain, "the trust domain is empty") }
        if bytes.count > maxLength {
            throw LatchError(.tooLong, "the trust domain is \(bytes.count) bytes; at most \(maxLength) are allowed")
        }
        if bytes.contains(UInt8(ascii: "@")) {
            throw LatchError(.hasUserInfo, "a trust domain has no user information")
        }
        for byte in bytes where !isTrustDomainByte(byte) {
            switch byte {
            case UInt8(ascii: ":"): throw LatchError(.hasPort, "a trust domain has no port")
            case UInt8(ascii: "@"): throw LatchError(.hasUserInfo, "a trust domain has no user information")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                throw LatchError(.badTrustDomainChar, "trust domain characters are lowercase [a-z0-9._-]; found an uppercase letter")
            default:
                throw LatchError(.badTrustDomainChar, "trust domain characters are lowercase [a-z0-9._-]; found \(describe(byte))")
            }
        }
    }

    @inline(__always)
    static func isTrustDomainByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D || b == 0x5F
    }
}

/// How an offending byte is shown in an error message: printable ASCII quoted, others as hex.
func describe(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    let hex = String(byte, radix: 16, uppercase: true)
    return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
}
