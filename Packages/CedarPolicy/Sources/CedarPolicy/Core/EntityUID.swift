/// A Cedar entity type name, fully qualified with `::` between path segments (`Acme::User`).
///
/// Invariants: each segment is a Cedar identifier; no whitespace. Built by the parsers.
public struct EntityType: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let name: String

    /// Wraps an already-normalised qualified name. Callers vouch for its syntax.
    public init(unchecked name: String) { self.name = name }

    /// The type's namespace (`Acme` for `Acme::User`), empty at top level.
    public var namespace: String {
        guard let range = self.name.range(ofLast: "::") else { return "" }
        return String(self.name[..<range.lowerBound])
    }

    /// The last path segment (`User` for `Acme::User`).
    public var basename: String {
        guard let range = self.name.range(ofLast: "::") else { return self.name }
        return String(self.name[range.upperBound...])
    }

    /// Whether this is an action type (`Action` or `NS::Action`).
    public var isAction: Bool { self.basename == "Action" }

    public var description: String { self.name }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }

    /// Byte-wise, as Cedar compares names (see `String.bytewiseEqual`).
    @inlinable public static func == (lhs: Self, rhs: Self) -> Bool { String.bytewiseEqual(lhs.name, rhs.name) }
    @inlinable public func hash(into hasher: inout Hasher) { self.name.hashBytes(into: &hasher) }
}

/// A Cedar entity reference: `Type::"id"`.
public struct EntityUID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let type: EntityType
    public let id: String

    public init(type: EntityType, id: String) {
        self.type = type
        self.id = id
    }

    /// `Type::"id"` with the id escaped as in Cedar source.
    public var description: String { "\(self.type.name)::\(CedarText.quoted(self.id))" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.type != rhs.type ? lhs.type < rhs.type : lhs.id < rhs.id
    }

    /// Byte-wise on type and id, as Cedar compares entity references (see `String.bytewiseEqual`).
    @inlinable public static func == (lhs: Self, rhs: Self) -> Bool {
        String.bytewiseEqual(lhs.id, rhs.id) && lhs.type == rhs.type
    }
    @inlinable public func hash(into hasher: inout Hasher) {
        self.type.hash(into: &hasher)
        self.id.hashBytes(into: &hasher)
    }
}

extension String {
    /// The range of the last occurrence of `needle`, without Foundation.
    @usableFromInline func range(ofLast needle: String) -> Range<String.Index>? {
        let hay = Array(self.utf8)
        let pat = Array(needle.utf8)
        guard !pat.isEmpty, hay.count >= pat.count else { return nil }
        var i = hay.count - pat.count
        while i >= 0 {
            if hay[i..<(i + pat.count)].elementsEqual(pat) {
                let lower = self.utf8.index(self.utf8.startIndex, offsetBy: i)
                let upper = self.utf8.index(lower, offsetBy: pat.count)
                return lower..<upper
            }
            i -= 1
        }
        return nil
    }
}
