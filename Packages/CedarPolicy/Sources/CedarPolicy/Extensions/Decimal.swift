/// Parsing and printing of Cedar `decimal` values.
///
/// Accepted text: an optional `-`, one or more ASCII digits, a `.`, and one to four ASCII digits
/// (`"1.0"`, `"-0.25"`, `"922337203685477.5807"`). The value must fit in an `Int64` after scaling by
/// 10,000, otherwise parsing fails with an overflow.
extension CedarDecimal: CustomStringConvertible {
    /// Digits after the point that a decimal carries.
    public static let fractionDigits = 4

    /// Parses Cedar decimal text, e.g. `"12.3456"`.
    public init(parsing text: String) throws(CedarError) {
        let b = Array(text.utf8)
        let negative = b.first == UInt8(ascii: "-")
        let start = negative ? 1 : 0
        guard let dot = b.firstIndex(of: UInt8(ascii: ".")), dot > start, dot < b.count - 1 else {
            throw Self.malformed(text)
        }
        for i in start..<b.count where i != dot {
            guard ASCII.digit(b[i]) != nil else { throw Self.malformed(text) }
        }
        let fracCount = b.count - dot - 1
        guard fracCount <= Self.fractionDigits else {
            throw CedarError(.extensionError, "too many digits after the decimal in `\(text)`")
        }
        // The integer part, accumulated with its sign so that the most negative value fits.
        var whole: Int64 = 0
        for i in start..<dot {
            let d = Int64(b[i] &- 0x30)
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1, !o2 else { throw Self.overflow() }
            whole = a
        }
        var frac: Int64 = 0
        for i in (dot + 1)..<b.count { frac = frac * 10 + Int64(b[i] &- 0x30) }
        for _ in fracCount..<Self.fractionDigits { frac *= 10 }
        let (scaledWhole, o1) = whole.multipliedReportingOverflow(by: 10_000)
        let (value, o2) = negative ? scaledWhole.subtractingReportingOverflow(frac) : scaledWhole.addingReportingOverflow(frac)
        guard !o1, !o2 else { throw Self.overflow() }
        self.init(scaled: value)
    }

    /// The shortest text `init(parsing:)` accepts for this value (at least one fractional digit).
    public var description: String {
        let magnitude = self.scaled.magnitude
        var frac = String(magnitude % 10_000)
        frac = String(repeating: "0", count: 4 - frac.count) + frac
        while frac.count > 1, frac.last == "0" { frac.removeLast() }
        return (self.scaled < 0 ? "-" : "") + String(magnitude / 10_000) + "." + frac
    }

    private static func malformed(_ text: String) -> CedarError {
        CedarError(.extensionError, "`\(text)` is not a well-formed decimal value")
    }

    private static func overflow() -> CedarError {
        CedarError(.extensionError, "overflow when converting to decimal")
    }
}
