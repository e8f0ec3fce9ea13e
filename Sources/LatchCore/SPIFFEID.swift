/// A SPIFFE ID: `spiffe://<trust-domain>/<path>`.
///
/// Invariants (checked by ``init(parsing:)``, relied on everywhere else):
/// - the scheme is exactly `spiffe` (lowercase), followed by `://`;
/// - the trust domain is non-empty, lowercase `[a-z0-9._-]`, at most 255 bytes, with no port and
///   no user information;
/// - the path is empty or `/`-separated segments of `[A-Za-z0-9._-]`, none empty, `.` or `..`,
///   with no trailing `/`; no query or fragment; no percent-encoding;
/// - the whole ID is at most 2048 bytes.
///
/// Each violation throws a `LatchError` whose code names the rule (`wrongScheme`,
/// `badTrustDomainChar`, `dotSegment`, …).
public struct SPIFFEID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let trustDomain: TrustDomain
    /// The path including its leading `/`, or empty for the trust domain's own ID.
    public let path: String

    /// The longest SPIFFE ID accepted, in bytes (SPIFFE-ID.md §2.3, URI length).
    public static let maxLength = 2048

    public init(parsing text: some StringProtocol) throws(LatchError) {
        let string = String(text)
        let bytes = Array(string.utf8)
        if bytes.isEmpty { throw LatchError(.emptySPIFFEID, "a SPIFFE ID cannot be empty") }
        if bytes.count > Self.maxLength {
            throw LatchError(.tooLong, "the SPIFFE ID is \(bytes.count) bytes; at most \(Self.maxLength) are allowed")
        }
        let prefix = Array("spiffe://".utf8)
        guard bytes.starts(with: prefix) else {
            throw LatchError(.wrongScheme, "a SPIFFE ID starts with `spiffe://` (lowercase scheme)")
        }
        // Query and fragment are reported before character checks so the code names the component.
        if let q = bytes.firstIndex(of: UInt8(ascii: "?")), q >= prefix.count {
            throw LatchError(.hasQuery, "a SPIFFE ID has no query component")
        }
        if bytes.contains(UInt8(ascii: "#")) {
            throw LatchError(.hasFragment, "a SPIFFE ID has no fragment component")
        }
        let rest = bytes[prefix.count...]
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let authority = rest[rest.startIndex..<slash]
        try TrustDomain.validate(name: authority)
        let pathBytes = rest[slash...]
        try Self.validate(path: pathBytes)
        self.trustDomain = TrustDomain(unchecked: String(decoding: authority, as: UTF8.self))
        self.path = String(decoding: pathBytes, as: UTF8.self)
    }

    /// Builds an ID in `trustDomain` from a path such as `/agents/billing` (validated).
    public init(trustDomain: TrustDomain, path: some StringProtocol) throws(LatchError) {
        let bytes = Array(String(path).utf8)
        if !bytes.isEmpty && bytes.first != UInt8(ascii: "/") {
            throw LatchError(.pathNotAbsolute, "a SPIFFE ID path starts with `/`")
        }
        if bytes.contains(UInt8(ascii: "?")) { throw LatchError(.hasQuery, "a SPIFFE ID has no query component") }
        if bytes.contains(UInt8(ascii: "#")) { throw LatchError(.hasFragment, "a SPIFFE ID has no fragment component") }
        try Self.validate(path: bytes[...])
        let total = "spiffe://".utf8.count + trustDomain.name.utf8.count + bytes.count
        if total > Self.maxLength {
            throw LatchError(.tooLong, "the SPIFFE ID is \(total) bytes; at most \(Self.maxLength) are allowed")
        }
        self.trustDomain = trustDomain
        self.path = String(path)
    }

    /// The ID of the trust domain itself, `spiffe://<td>` (no path).
    public init(trustDomain: TrustDomain) {
        self.trustDomain = trustDomain
        self.path = ""
    }

    /// The path's segments, e.g. `["agents", "billing"]`.
    public var segments: [Substring] { self.path.split(separator: "/", omittingEmptySubsequences: true) }

    /// Whether `self` is in `trustDomain`.
    public func isMember(of trustDomain: TrustDomain) -> Bool { self.trustDomain == trustDomain }

    /// The canonical text, `spiffe://<td><path>`.
    public var description: String { "spiffe://" + self.trustDomain.name + self.path }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }

    /// Validates a path (empty, or `/seg/seg…`) positioned right after the trust domain.
    static func validate(path bytes: ArraySlice<UInt8>) throws(LatchError) {
        if bytes.isEmpty { return }
        if bytes.last == UInt8(ascii: "/") {
            if bytes.count == 1 {
                throw LatchError(.trailingSlash, "a SPIFFE ID does not end with `/`; write `spiffe://<td>` for the trust domain")
            }
            // `//` at the end is an empty segment before it is a trailing slash.
            if bytes[bytes.index(before: bytes.endIndex - 1)] == UInt8(ascii: "/") {
                throw LatchError(.emptySegment, "a SPIFFE ID path has no empty segments (`//`)")
            }
        }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            // `index` is at a `/`.
            let start = index + 1
            var end = start
            while end < bytes.endIndex && bytes[end] != UInt8(ascii: "/") { end += 1 }
            let segment = bytes[start..<end]
            if segment.isEmpty {
                if end == bytes.endIndex {
                    throw LatchError(.trailingSlash, "a SPIFFE ID path does not end with `/`")
                }
                throw LatchError(.emptySegment, "a SPIFFE ID path has no empty segments (`//`)")
            }
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                throw LatchError(.dotSegment, "a SPIFFE ID path has no `.` or `..` segments")
            }
            for byte in segment where !isPathByte(byte) {
                throw LatchError(.badPathChar, "SPIFFE ID path characters are [A-Za-z0-9._-]; found \(describe(byte))")
            }
            index = end
        }
    }

    @inline(__always)
    static func isPathByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x2E || b == 0x2D || b == 0x5F
    }
}
