/// How extension values are written as text: the one mapping between extension values, their
/// type names and their constructor functions, for the JSON writer and reader, the formatter and
/// the validator.
///
/// (This belongs next to `ExtensionFunction.apply` in `Extensions/`; it lives here until that
/// code can take it.)
extension ExtensionValue {
    /// The constructor call that rebuilds this value: `decimal("1.5000")`, `ip("10.0.0.0/8")`, …
    ///
    /// A datetime outside the years 0000–9999 has no datetime text (the constructor would not
    /// read it back); it is written as Cedar writes it, `datetime("1970-01-01")` offset by a
    /// duration of `epochOffsetMillis` milliseconds, which is `nil` for every other value.
    var constructorCall: (function: ExtensionFunction, argument: String, epochOffsetMillis: Int64?) {
        switch self {
        case .decimal(let d): return (.decimal, d.description, nil)
        case .ipaddr(let ip): return (.ip, ip.description, nil)
        case .datetime(let d):
            guard (try? CedarDatetime(parsing: d.description)) == d else { return (.datetime, "1970-01-01", d.millis) }
            return (.datetime, d.description, nil)
        case .duration(let d): return (.duration, d.description, nil)
        }
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
