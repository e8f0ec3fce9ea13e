/// The one error type of the Cedar engine.
///
/// `code` says what kind of failure it is (tests match on it); `message` is for people and never
/// holds a secret; `location` points into policy or schema text when the error came from there.
public struct CedarError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is. New codes can be added in any file with
    /// `extension CedarError.Code { static let x = Code("x") }` without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        @usableFromInline init(_ name: String) { self.name = name }
        public var description: String { self.name }
    }

    public var code: Code
    public var message: String
    public var location: SourceLocation?

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location.line):\(location.column): \(self.message)" }
        return self.message
    }

    /// Errors are equal when their codes are, so tests can match on the kind of failure.
    public static func == (lhs: CedarError, rhs: CedarError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension CedarError.Code {
    // Parsing (policy text, schema text, JSON)
    public static let syntax = Self("syntax")
    public static let limitExceeded = Self("limitExceeded")
    public static let json = Self("json")
    public static let schema = Self("schema")
    public static let validation = Self("validation")
    public static let entities = Self("entities")
    public static let request = Self("request")
    public static let template = Self("template")
    public static let duplicateID = Self("duplicateID")

    // Evaluation
    public static let typeError = Self("typeError")
    public static let overflow = Self("overflow")
    public static let entityNotFound = Self("entityNotFound")
    public static let attributeNotFound = Self("attributeNotFound")
    public static let tagNotFound = Self("tagNotFound")
    public static let extensionError = Self("extensionError")
    public static let unlinkedSlot = Self("unlinkedSlot")
}
