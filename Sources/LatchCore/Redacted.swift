/// A value that must not appear in logs, error messages or debug output.
///
/// Printing, interpolating, dumping or reflecting a `Redacted` shows `<redacted>`; the value is
/// reachable only through the explicitly named ``unredacted`` property, so every use is visible
/// in review.
///
/// - Important: redaction covers Swift's printing paths only; encoding the wrapped value
///   yourself (into JSON, a header, a file) writes it in the clear.
public struct Redacted<Value>: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself. Reading it is a deliberate act.
    public let unredacted: Value

    public init(_ value: Value) { self.unredacted = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

extension Redacted: Sendable where Value: Sendable {}
extension Redacted: Equatable where Value: Equatable {}
extension Redacted: Hashable where Value: Hashable {}
