/// The error type shared by Latch's own modules (not the Cedar engine, which has `CedarError`).
///
/// `code` says what kind of failure it is and is what callers and tests match on; `message` is for
/// people. Codes form an open set: any module adds one with
/// `extension LatchError.Code { public static let x = Self("x") }` without breaking callers.
///
/// - Important: messages never carry secrets, tokens or keys; wrap such values in ``Redacted``.
public struct LatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is: a name from a growable set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable, machine-readable name (`invalidInput`, `io`, …).
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { self.name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// Errors are equal when their codes are, so tests can match on the kind of failure.
    public static func == (lhs: LatchError, rhs: LatchError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension LatchError.Code {
    /// Input that does not parse or violates a documented limit.
    public static let invalidInput = Self("invalidInput")
    /// A file or stream could not be read or written.
    public static let io = Self("io")
    /// A configuration value is missing or out of range.
    public static let configuration = Self("configuration")
    /// Something that should exist does not.
    public static let notFound = Self("notFound")
    /// Something with the same identity already exists (a duplicate id on create).
    public static let conflict = Self("conflict")
    /// A bug: an internal invariant did not hold.
    public static let internalError = Self("internal")
}
