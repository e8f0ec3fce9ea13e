/// A Cedar expression: a node kind and where it came from. Equality ignores the location.
public struct Expr: Hashable, Sendable {
    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation = .unknown) {
        self.kind = kind
        self.location = location
    }

    public static func == (lhs: Expr, rhs: Expr) -> Bool { lhs.kind == rhs.kind }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.kind) }

    public indirect enum Kind: Hashable, Sendable {
        /// A literal `true`/`false`, integer, string, or entity reference.
        case literal(Value)
        case variable(Variable)
        /// `?principal` or `?resource` in a template body is not allowed by Cedar; slots appear
        /// only in scopes, but the JSON format can carry them, so the AST can too.
        case slot(SlotID)
        case not(Expr)
        case negate(Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        case ifThenElse(Expr, Expr, Expr)
        case binary(BinaryOp, Expr, Expr)
        /// `e.attr` or `e["attr"]`
        case getAttr(Expr, String)
        /// `e has attr`; the parser expands `e has a.b` to `e has a && e.a has b`.
        case hasAttr(Expr, String)
        case like(Expr, Pattern)
        /// `e is T` or `e is T in x`
        case isType(Expr, EntityType, in: Expr?)
        /// `e.isEmpty()`
        case isEmpty(Expr)
        case set([Expr])
        /// Record literal; keys are unique (the parsers reject duplicates), order as written.
        case record([RecordEntry])
        /// An extension function or method call; for a method the receiver is the first argument.
        case call(ExtensionFunction, [Expr])
    }
}

public struct RecordEntry: Hashable, Sendable {
    public var key: String
    public var value: Expr
    public init(key: String, value: Expr) {
        self.key = key
        self.value = value
    }
}

public enum Variable: String, Hashable, Sendable, CaseIterable {
    case principal, action, resource, context
}

public enum SlotID: String, Hashable, Sendable {
    case principal = "?principal"
    case resource = "?resource"
}

public enum BinaryOp: String, Hashable, Sendable {
    case eq = "=="
    case neq = "!="
    case lt = "<"
    case le = "<="
    case gt = ">"
    case ge = ">="
    case add = "+"
    case sub = "-"
    case mul = "*"
    case `in` = "in"
    /// `a.contains(b)`
    case contains
    case containsAll
    case containsAny
    /// `e.hasTag(k)`
    case hasTag
    /// `e.getTag(k)`
    case getTag
}

/// A `like` pattern: literal characters and `*` wildcards.
public struct Pattern: Hashable, Sendable {
    public enum Element: Hashable, Sendable {
        case literal(Unicode.Scalar)
        case wildcard
    }
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }
}

/// The extension functions and methods Cedar defines. Methods take the receiver first.
public enum ExtensionFunction: String, Hashable, Sendable, CaseIterable {
    // decimal
    case decimal
    case lessThan, lessThanOrEqual, greaterThan, greaterThanOrEqual
    // ipaddr
    case ip
    case isIpv4, isIpv6, isLoopback, isMulticast, isInRange
    // datetime / duration
    case datetime, duration
    case offset, durationSince, toDate, toTime
    case toMilliseconds, toSeconds, toMinutes, toHours, toDays

    /// Whether this is written as a method (`x.f(...)`) rather than a function (`f(...)`).
    public var isMethod: Bool {
        switch self {
        case .decimal, .ip, .datetime, .duration: false
        default: true
        }
    }

    /// Number of arguments, counting the receiver of a method.
    public var arity: Int {
        switch self {
        case .decimal, .ip, .datetime, .duration: 1
        case .isIpv4, .isIpv6, .isLoopback, .isMulticast: 1
        case .toDate, .toTime, .toMilliseconds, .toSeconds, .toMinutes, .toHours, .toDays: 1
        case .lessThan, .lessThanOrEqual, .greaterThan, .greaterThanOrEqual: 2
        case .isInRange, .offset, .durationSince: 2
        }
    }
}
