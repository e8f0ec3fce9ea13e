/// Small ASCII helpers shared by the extension-type parsers (no Foundation).
enum ASCII {
    /// The value of an ASCII decimal digit, or nil.
    @inline(__always) static func digit(_ b: UInt8) -> Int64? {
        b >= 0x30 && b <= 0x39 ? Int64(b &- 0x30) : nil
    }

    /// The value of an ASCII hexadecimal digit, or nil.
    @inline(__always) static func hexDigit(_ b: UInt8) -> UInt64? {
        switch b {
        case 0x30...0x39: UInt64(b &- 0x30)
        case 0x41...0x46: UInt64(b &- 0x41 &+ 10)
        case 0x61...0x66: UInt64(b &- 0x61 &+ 10)
        default: nil
        }
    }

    /// Parses `bytes[range]` as a non-empty run of ASCII digits; nil if any byte is not a digit.
    static func number(_ bytes: [UInt8], _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty else { return nil }
        var v: Int64 = 0
        for i in range {
            guard let d = digit(bytes[i]) else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    /// `n` as decimal text, left-padded with zeros to `width` digits.
    static func padded(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
