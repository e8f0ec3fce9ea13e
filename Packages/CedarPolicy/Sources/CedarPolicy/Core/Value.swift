/// A Cedar runtime value.
///
/// Sets compare as sets and records as maps, as in Cedar; `Hashable` follows that equality.
public enum Value: Hashable, Sendable {
    case bool(Bool)
    case long(Int64)
    case string(String)
    case entity(EntityUID)
    case set(Set<Value>)
    case record([String: Value])
    case ext(ExtensionValue)

    /// The Cedar type name used in error messages (`Bool`, `Long`, `String`, `Entity`, `Set`,
    /// `Record`, or the extension type's name).
    public var typeName: String {
        switch self {
        case .bool: "bool"
        case .long: "long"
        case .string: "string"
        case .entity: "(entity of type `\(self.entityUID?.type.name ?? "")`)"
        case .set: "set"
        case .record: "record"
        case .ext(let e): e.typeName
        }
    }

    @inlinable public var entityUID: EntityUID? {
        if case .entity(let uid) = self { return uid }
        return nil
    }

    /// Cedar equality: strings byte-wise (not by Unicode canonical equivalence), sets as sets,
    /// records as maps; values of different types are unequal.
    @inlinable public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.bool(let l), .bool(let r)): l == r
        case (.long(let l), .long(let r)): l == r
        case (.string(let l), .string(let r)): String.bytewiseEqual(l, r)
        case (.entity(let l), .entity(let r)): l == r
        case (.set(let l), .set(let r)): l == r
        case (.record(let l), .record(let r)): l == r
        case (.ext(let l), .ext(let r)): l == r
        default: false
        }
    }

    @inlinable public func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b): hasher.combine(0 as UInt8); hasher.combine(b)
        case .long(let n): hasher.combine(1 as UInt8); hasher.combine(n)
        case .string(let s): hasher.combine(2 as UInt8); s.hashBytes(into: &hasher)
        case .entity(let uid): hasher.combine(3 as UInt8); uid.hash(into: &hasher)
        case .set(let set): hasher.combine(4 as UInt8); hasher.combine(set)
        case .record(let record): hasher.combine(5 as UInt8); hasher.combine(record)
        case .ext(let e): hasher.combine(6 as UInt8); hasher.combine(e)
        }
    }
}

/// A value of one of Cedar's extension types.
public enum ExtensionValue: Hashable, Sendable {
    case decimal(CedarDecimal)
    case ipaddr(IPAddr)
    case datetime(CedarDatetime)
    case duration(CedarDuration)

    public var typeName: String {
        switch self {
        case .decimal: "decimal"
        case .ipaddr: "ipaddr"
        case .datetime: "datetime"
        case .duration: "duration"
        }
    }
}

/// Cedar `decimal`: a fixed-point number with four digits after the point.
public struct CedarDecimal: Hashable, Sendable, Comparable {
    /// The value times 10,000.
    public let scaled: Int64
    public init(scaled: Int64) { self.scaled = scaled }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.scaled < rhs.scaled }
}

/// Cedar `ipaddr`: an IPv4 or IPv6 address with a prefix length (a single address has the full
/// prefix, 32 or 128). Equality is structural on address and prefix, as in Cedar.
public struct IPAddr: Hashable, Sendable {
    public let isV6: Bool
    /// The address bits, IPv4 in the low 32 bits of `low`.
    public let high: UInt64
    public let low: UInt64
    public let prefix: UInt8

    public init(isV6: Bool, high: UInt64, low: UInt64, prefix: UInt8) {
        self.isV6 = isV6
        self.high = high
        self.low = low
        self.prefix = prefix
    }
}

/// Cedar `datetime`: milliseconds since the Unix epoch (UTC).
public struct CedarDatetime: Hashable, Sendable, Comparable {
    public let millis: Int64
    public init(millis: Int64) { self.millis = millis }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millis < rhs.millis }
}

/// Cedar `duration`: a signed number of milliseconds.
public struct CedarDuration: Hashable, Sendable, Comparable {
    public let millis: Int64
    public init(millis: Int64) { self.millis = millis }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.millis < rhs.millis }
}
