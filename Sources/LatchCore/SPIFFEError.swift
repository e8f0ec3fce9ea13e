/// Error codes for SPIFFE IDs and trust domains: each names the rule of the SPIFFE ID standard
/// (SPIFFE-ID.md §2) that the input broke, so callers and tests can tell them apart.
extension LatchError.Code {
    /// The input is empty.
    public static let emptySPIFFEID = Self("emptySPIFFEID")
    /// The scheme is not exactly `spiffe` (lowercase) followed by `://`.
    public static let wrongScheme = Self("wrongScheme")
    /// Nothing between `spiffe://` and the path.
    public static let missingTrustDomain = Self("missingTrustDomain")
    /// A trust domain character outside lowercase `[a-z0-9._-]`.
    public static let badTrustDomainChar = Self("badTrustDomainChar")
    /// The authority carries a port (`:`).
    public static let hasPort = Self("hasPort")
    /// The authority carries user information (`@`).
    public static let hasUserInfo = Self("hasUserInfo")
    /// A `?` query component.
    public static let hasQuery = Self("hasQuery")
    /// A `#` fragment component.
    public static let hasFragment = Self("hasFragment")
    /// Two consecutive slashes (an empty path segment).
    public static let emptySegment = Self("emptySegment")
    /// A `.` or `..` path segment.
    public static let dotSegment = Self("dotSegment")
    /// A path character outside `[A-Za-z0-9._-]` (percent-encoding included).
    public static let badPathChar = Self("badPathChar")
    /// The path ends with `/`.
    public static let trailingSlash = Self("trailingSlash")
    /// The ID exceeds 2048 bytes or the trust domain 255 bytes.
    public static let tooLong = Self("tooLong")
    /// A path that does not start with `/`.
    public static let pathNotAbsolute = Self("pathNotAbsolute")
}
