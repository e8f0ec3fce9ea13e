/// Parsing, printing and unit conversion of Cedar `duration` values.
///
/// Accepted text, as in Cedar: an optional `-`, then one or more `<digits><unit>` parts with units
/// `d`, `h`, `m`, `s`, `ms`, each at most once and in that order (`"1d2h3m4s5ms"`, `"-90m"`).
/// The total must fit in an `Int64` count of milliseconds.
extension CedarDuration: CustomStringConvertible {
    private static let units: [(suffix: String, millis: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses Cedar duration text such as `"1h30m"`.
    public init(parsing text: String) throws(CedarError) {
        let b = Array(text.utf8)
        let negative = b.first == UInt8(ascii: "-")
        var i = negative ? 1 : 0
        var nextUnit = 0
        var total: Int64 = 0
        var parts = 0
        var overflow = false
        let pattern = CedarError(.extensionError, "invalid duration pattern")
        while i < b.count {
            let start = i
            while i < b.count, ASCII.digit(b[i]) != nil { i += 1 }
            guard i > start, i < b.count else { throw pattern }
            // unit: "ms" needs two bytes, the others one
            var unit: Int
            switch b[i] {
            case UInt8(ascii: "d"): unit = 0
            case UInt8(ascii: "h"): unit = 1
            case UInt8(ascii: "m"): unit = i + 1 < b.count && b[i + 1] == UInt8(ascii: "s") ? 4 : 2
            case UInt8(ascii: "s"): unit = 3
            default: throw pattern
            }
            guard unit >= nextUnit else { throw pattern }
            nextUnit = unit + 1
            // magnitude, accumulated with the sign so that Int64.min is reachable
            var v: Int64 = 0
            for k in start..<i where !overflow {
                let d = Int64(b[k] &- 0x30)
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
                overflow = o1 || o2
                v = a
            }
            if !overflow {
                let (m, o1) = v.multipliedReportingOverflow(by: Self.units[unit].millis)
                let (a, o2) = total.addingReportingOverflow(m)
                overflow = o1 || o2
                total = a
            }
            i += unit == 4 ? 2 : 1
            parts += 1
        }
        guard parts > 0 else { throw pattern }
        guard !overflow else { throw CedarError(.extensionError, "Duration overflows internal representation") }
        self.init(millis: total)
    }

    public var toMilliseconds: Int64 { self.millis }
    public var toSeconds: Int64 { self.millis / 1000 }
    public var toMinutes: Int64 { self.millis / 60_000 }
    public var toHours: Int64 { self.millis / 3_600_000 }
    public var toDays: Int64 { self.millis / 86_400_000 }

    /// Text such as `1d2h3m4s5ms` (`0ms` for zero), accepted back by `init(parsing:)`.
    public var description: String {
        guard self.millis != 0 else { return "0ms" }
        var rest = self.millis.magnitude
        var out = self.millis < 0 ? "-" : ""
        for (suffix, unit) in Self.units {
            let u = UInt64(unit)
            if rest >= u {
                out += "\(rest / u)\(suffix)"
                rest %= u
            }
        }
        return out
    }
}
