/// Extension values as Cedar expression text.
extension ExtensionValue {
    /// The constructor function that makes values of this type (`decimal`, `ip`, `datetime`, `duration`).
    public var constructor: ExtensionFunction {
        switch self {
        case .decimal: .decimal
        case .ipaddr: .ip
        case .datetime: .datetime
        case .duration: .duration
        }
    }

    /// The constructor's string argument, or nil for a datetime outside the years 0000-9999, which
    /// has no text form (such values arise from `offset`).
    public var constructorArgument: String? {
        switch self {
        case .decimal(let d): d.description
        case .ipaddr(let ip): ip.description
        case .datetime(let d): d.hasTextForm ? d.description : nil
        case .duration(let d): d.description
        }
    }

    /// Cedar expression text that evaluates to this value, such as `decimal("1.23")`,
    /// `ip("10.0.0.0/8")`, `datetime("2024-10-15T11:35:00.500Z")` or `duration("1d2h")`.
    ///
    /// A datetime outside the years 0000-9999 (reachable with `offset`) cannot be written as
    /// `datetime("…")`; it is written as the epoch offset by its milliseconds,
    /// `datetime("1970-01-01").offset(duration("-62198755200000ms"))`, which evaluates back to it.
    public var cedarExpression: String {
        switch self {
        case .datetime(let d) where !d.hasTextForm:
            return "datetime(\"1970-01-01\").offset(duration(\"\(d.millis)ms\"))"
        default:
            // The arguments need no escaping: they are ASCII digits, letters and `.:-/`.
            return "\(self.constructor.name)(\"\(self.constructorArgument ?? "")\")"
        }
    }
}

extension ExtensionValue: CustomStringConvertible {
    /// Same as ``cedarExpression``.
    public var description: String { self.cedarExpression }
}

extension CedarDatetime {
    /// Whether `description` is Cedar datetime text that parses back to this value (years 0000-9999).
    public var hasTextForm: Bool {
        Self.minimumWritable.millis <= self.millis && self.millis <= Self.maximumWritable.millis
    }

    /// 0000-01-01T00:00:00Z.
    static let minimumWritable = CedarDatetime(millis: Self.daysFromCivil(year: 0, month: 1, day: 1) * Self.millisPerDay)
    /// 9999-12-31T23:59:59.999Z.
    static let maximumWritable = CedarDatetime(millis: Self.daysFromCivil(year: 10_000, month: 1, day: 1) * Self.millisPerDay - 1)
}

extension ExtensionValue {
    /// The parts of ``cedarExpression`` for writers that build their own output (policy JSON, the
    /// formatter): the constructor, its string argument, and for a datetime without text form the
    /// epoch offset in milliseconds (then the argument is `"1970-01-01"`).
    var constructorCall: (function: ExtensionFunction, argument: String, epochOffsetMillis: Int64?) {
        if let argument = self.constructorArgument { return (self.constructor, argument, nil) }
        guard case .datetime(let d) = self else { return (self.constructor, "", nil) }
        return (.datetime, "1970-01-01", d.millis)
    }
}

extension ExtensionFunction {
    /// The constructor for each extension type name (`"ipaddr"` → `ip`).
    static let constructorsByTypeName: [String: ExtensionFunction] = [
        "decimal": .decimal, "ipaddr": .ip, "datetime": .datetime, "duration": .duration,
    ]

    /// Whether this function builds an extension value from a string (`decimal`, `ip`, `datetime`, `duration`).
    var isConstructor: Bool { Self.constructorsByTypeName.values.contains(self) }
}
