/// Parsing, printing and arithmetic of Cedar `datetime` values.
///
/// Accepted text, as in Cedar: `YYYY-MM-DD`, `YYYY-MM-DDThh:mm:ssZ`, `YYYY-MM-DDThh:mm:ss.SSSZ`,
/// `YYYY-MM-DDThh:mm:ss(+|-)hhmm` and `YYYY-MM-DDThh:mm:ss.SSS(+|-)hhmm`, with a real calendar
/// date (proleptic Gregorian), `hh` < 24, `mm` < 60, `ss` < 60 and an offset below 24 hours.
extension CedarDatetime: CustomStringConvertible {
    static let millisPerDay: Int64 = 86_400_000

    /// Parses Cedar datetime text such as `"2024-10-15T11:35:00Z"`.
    public init(parsing text: String) throws(CedarError) {
        let b = Array(text.utf8)
        func num(_ r: Range<Int>) -> Int64? { r.upperBound <= b.count ? ASCII.number(b, r) : nil }
        func byte(_ i: Int) -> UInt8? { i < b.count ? b[i] : nil }
        guard let year = num(0..<4), byte(4) == UInt8(ascii: "-"), let month = num(5..<7), byte(7) == UInt8(ascii: "-"),
            let day = num(8..<10)
        else { throw CedarError(.extensionError, "invalid date pattern") }
        guard month >= 1, month <= 12, day >= 1, day <= Self.daysIn(month: month, year: year) else {
            throw CedarError(.extensionError, "invalid date: \(String(decoding: b.prefix(10), as: UTF8.self))")
        }
        var millis = Self.daysFromCivil(year: year, month: month, day: day) * Self.millisPerDay
        if b.count > 10 {
            guard byte(10) == UInt8(ascii: "T"), let h = num(11..<13), byte(13) == UInt8(ascii: ":"), let m = num(14..<16),
                byte(16) == UInt8(ascii: ":"), let s = num(17..<19)
            else { throw CedarError(.extensionError, "invalid hour/minute/second pattern") }
            guard h < 24, m < 60, s < 60 else {
                throw CedarError(.extensionError, "invalid hour/minute/second: \(String(decoding: b[11..<19], as: UTF8.self))")
            }
            millis += ((h * 60 + m) * 60 + s) * 1000
            var i = 19
            if byte(i) == UInt8(ascii: ".") {
                guard let ms = num((i + 1)..<(i + 4)) else { throw CedarError(.extensionError, "invalid millisecond and/or offset pattern") }
                millis += ms
                i += 4
            }
            if byte(i) == UInt8(ascii: "Z"), b.count == i + 1 {
                // UTC
            } else if let sign = byte(i), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), b.count == i + 5,
                let oh = num((i + 1)..<(i + 3)), let om = num((i + 3)..<(i + 5))
            {
                guard oh < 24, om < 60 else {
                    throw CedarError(.extensionError, "invalid offset range: \(String(decoding: b[(i + 1)...], as: UTF8.self))")
                }
                let offset = (oh * 60 + om) * 60_000
                millis += sign == UInt8(ascii: "+") ? -offset : offset
            } else {
                throw CedarError(.extensionError, "invalid millisecond and/or offset pattern")
            }
        }
        self.init(millis: millis)
    }

    /// This datetime moved by `duration`; throws on overflow.
    public func offset(by duration: CedarDuration) throws(CedarError) -> CedarDatetime {
        let (v, o) = self.millis.addingReportingOverflow(duration.millis)
        guard !o else { throw CedarError(.overflow, "overflows when adding an offset: \(self) + \(duration)") }
        return CedarDatetime(millis: v)
    }

    /// The duration from `other` to this datetime; throws on overflow.
    public func durationSince(_ other: CedarDatetime) throws(CedarError) -> CedarDuration {
        let (v, o) = self.millis.subtractingReportingOverflow(other.millis)
        guard !o else { throw CedarError(.overflow, "overflows when computing the duration between \(self) and \(other)") }
        return CedarDuration(millis: v)
    }

    /// Midnight (UTC) of this datetime's day; throws if that is not representable.
    public func toDate() throws(CedarError) -> CedarDatetime {
        let (q, r) = self.millis.quotientAndRemainder(dividingBy: Self.millisPerDay)
        let days = r < 0 ? q - 1 : q
        let (v, o) = days.multipliedReportingOverflow(by: Self.millisPerDay)
        guard !o else { throw CedarError(.overflow, "overflow when computing the date of \(self)") }
        return CedarDatetime(millis: v)
    }

    /// The time elapsed since midnight (UTC) of this datetime's day.
    public func toTime() -> CedarDuration {
        let r = self.millis % Self.millisPerDay
        return CedarDuration(millis: r < 0 ? r + Self.millisPerDay : r)
    }

    /// `YYYY-MM-DD`, with `Thh:mm:ssZ` or `Thh:mm:ss.SSSZ` when the time is not midnight (UTC).
    /// Years outside 0000...9999 cannot be written in Cedar's format; they print with more digits.
    public var description: String {
        let (q, r) = self.millis.quotientAndRemainder(dividingBy: Self.millisPerDay)
        let days = r < 0 ? q - 1 : q
        let t = r < 0 ? r + Self.millisPerDay : r
        let (y, m, d) = Self.civilFromDays(days)
        var out = "\(y < 0 ? "-" : "")\(ASCII.padded(abs(y), 4))-\(ASCII.padded(m, 2))-\(ASCII.padded(d, 2))"
        guard t != 0 else { return out }
        let secs = t / 1000
        out += "T\(ASCII.padded(secs / 3600, 2)):\(ASCII.padded(secs / 60 % 60, 2)):\(ASCII.padded(secs % 60, 2))"
        if t % 1000 != 0 { out += ".\(ASCII.padded(t % 1000, 3))" }
        return out + "Z"
    }

    static func isLeap(_ y: Int64) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
