/// Whether a string literal passed to an extension constructor (`ip("…")`, `decimal("…")`, …)
/// parses: Cedar's strict validator reports the ones that don't. Only validity is decided here;
/// the evaluator's extension types do the actual parsing.
enum ExtensionLiteralCheck {
    static func isValid(_ f: ExtensionFunction, _ s: String) -> Bool {
        let bytes = Array(s.utf8)
        switch f {
        case .decimal: return Self.isDecimal(bytes)
        case .ip: return Self.isIPAddr(bytes)
        case .datetime: return Self.isDatetime(bytes)
        case .duration: return Self.isDuration(bytes)
        default: return true
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// Parses ASCII digits as a non-negative number, or nil on overflow past `Int64.max`.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var v: Int64 = 0
        for b in digits {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b - 48))
            if o1 || o2 { return nil }
            v = a
        }
        return v
    }

    /// `-?[0-9]+\.[0-9]{1,4}` whose value times 10⁴ fits in 64 bits.
    static func isDecimal(_ b: [UInt8]) -> Bool {
        var i = 0
        let negative = b.first == UInt8(ascii: "-")
        if negative { i = 1 }
        let intStart = i
        while i < b.count, Self.isDigit(b[i]) { i += 1 }
        guard i > intStart, i < b.count, b[i] == UInt8(ascii: ".") else { return false }
        let intDigits = b[intStart..<i]
        i += 1
        let fracStart = i
        while i < b.count, Self.isDigit(b[i]) { i += 1 }
        guard i == b.count, i > fracStart, i - fracStart <= 4 else { return false }
        // Integer part as a signed value (the sign applies to it), then scaled.
        guard let magnitude = Self.number(intDigits) else {
            // `-9223372036854775808` parses as Int64 but scaling would overflow anyway.
            return false
        }
        var l = negative ? -magnitude : magnitude
        for _ in 0..<4 {
            let (m, o) = l.multipliedReportingOverflow(by: 10)
            if o { return false }
            l = m
        }
        guard var r = Self.number(b[fracStart..<i]) else { return false }
        for _ in 0..<(4 - (i - fracStart)) { r *= 10 }
        return negative ? !l.subtractingReportingOverflow(r).overflow : !l.addingReportingOverflow(r).overflow
    }

    /// `-?(Nd)?(Nh)?(Nm)?(Ns)?(Nms)?` with at least one part, fitting in 64-bit milliseconds.
    static func isDuration(_ b: [UInt8]) -> Bool {
        if b.isEmpty || b == [UInt8(ascii: "-")] { return false }
        var i = 0
        let negative = b.first == UInt8(ascii: "-")
        if negative { i = 1 }
        let units: [(String, Int64)] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
        var parts: [(Int64?, Int64)] = []
        var next = 0
        while i < b.count {
            let start = i
            while i < b.count, Self.isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
            let digits = b[start..<i]
            var unit = ""
            while i < b.count, !Self.isDigit(b[i]) {
                unit.unicodeScalars.append(Unicode.Scalar(b[i]))
                i += 1
            }
            guard let idx = units.firstIndex(where: { $0.0 == unit }), idx >= next else { return false }
            next = idx + 1
            // A number too large for u64 is an overflow; anything over Int64 overflows too.
            parts.append((Self.number(digits), units[idx].1))
        }
        guard !parts.isEmpty else { return false }
        // Accumulate from milliseconds up, as Cedar does, checking for overflow.
        var ms: Int64 = 0
        var rest = parts[...]
        if let last = parts.last, last.1 == 1 {
            // Milliseconds are negated first, so `-9223372036854775808ms` is in range.
            rest = parts.dropLast()
            if let v = last.0 {
                ms = negative ? -v : v
            } else if negative, Array(b.suffix(21)) == Array("9223372036854775808ms".utf8),
                      !Self.isDigit(b[b.count - 22]) {
                ms = Int64.min
            } else {
                return false
            }
        }
        for (value, scale) in rest.reversed() {
            guard let value else { return false }
            let (product, o1) = value.multipliedReportingOverflow(by: scale)
            if o1 { return false }
            let (sum, o2) = negative ? ms.subtractingReportingOverflow(product) : ms.addingReportingOverflow(product)
            if o2 { return false }
            ms = sum
        }
        return true
    }

    /// `YYYY-MM-DD`, optionally `Thh:mm:ss`, then `Z`, `.SSSZ`, `(+|-)hhmm` or `.SSS(+|-)hhmm`.
    static func isDatetime(_ b: [UInt8]) -> Bool {
        func digits(_ at: Int, _ n: Int) -> Int? {
            guard at + n <= b.count else { return nil }
            var v = 0
            for k in at..<(at + n) {
                guard Self.isDigit(b[k]) else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            return v
        }
        guard let year = digits(0, 4), b.count >= 10, b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              b[7] == UInt8(ascii: "-"), let day = digits(8, 2)
        else { return false }
        func dateValid() -> Bool {
            guard (1...12).contains(month), day >= 1 else { return false }
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            return day <= lengths[month - 1]
        }
        if b.count == 10 { return dateValid() }
        guard b.count >= 19, b[10] == UInt8(ascii: "T"), let h = digits(11, 2), b[13] == UInt8(ascii: ":"),
              let m = digits(14, 2), b[16] == UInt8(ascii: ":"), let s = digits(17, 2)
        else { return false }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            guard digits(i + 1, 3) != nil else { return false }
            i += 4
        }
        guard i < b.count else { return false }
        var offsetValid = true
        if b[i] == UInt8(ascii: "Z") {
            guard i + 1 == b.count else { return false }
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 5 == b.count, let oh = digits(i + 1, 2), let om = digits(i + 3, 2) else { return false }
            offsetValid = oh < 24 && om < 60
        } else {
            return false
        }
        guard dateValid(), h < 24, m < 60, s < 60 else { return false }
        return offsetValid
    }

    /// IPv4 or IPv6 (no mixed forms) with an optional `/prefix`, as Rust's address parser accepts.
    static func isIPAddr(_ b: [UInt8]) -> Bool {
        guard b.count <= 43 else { return false }
        if b.contains(UInt8(ascii: ":")) && b.contains(UInt8(ascii: ".")) { return false }
        var addr = b[...]
        var prefix: ArraySlice<UInt8>?
        if let slash = b.firstIndex(of: UInt8(ascii: "/")) {
            addr = b[..<slash]
            prefix = b[(slash + 1)...]
        }
        let isV4: Bool
        if Self.isIPv4(addr) {
            isV4 = true
        } else if Self.isIPv6(addr) {
            isV4 = false
        } else {
            return false
        }
        guard let prefix else { return true }
        let maxLen = isV4 ? 2 : 3
        guard prefix.count <= maxLen, !prefix.isEmpty, prefix.allSatisfy(Self.isDigit) else { return false }
        if prefix.first == UInt8(ascii: "0") && prefix.count > 1 { return false }
        guard let v = Self.number(prefix) else { return false }
        return v <= (isV4 ? 32 : 128)
    }

    private static func isIPv4(_ b: ArraySlice<UInt8>) -> Bool {
        let parts = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(Self.isDigit) else { return false }
            if p.count > 1 && p.first == UInt8(ascii: "0") { return false }
            guard let v = Self.number(p), v <= 255 else { return false }
        }
        return true
    }

    private static func isIPv6(_ b: ArraySlice<UInt8>) -> Bool {
        func isHex(_ c: UInt8) -> Bool {
            Self.isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
        }
        func groups(_ s: ArraySlice<UInt8>) -> Int? {
            if s.isEmpty { return 0 }
            let parts = s.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for p in parts {
                guard !p.isEmpty, p.count <= 4, p.allSatisfy(isHex) else { return nil }
            }
            return parts.count
        }
        let arr = Array(b)
        var dc: Int?
        var k = 0
        while k + 1 < arr.count {
            if arr[k] == UInt8(ascii: ":") && arr[k + 1] == UInt8(ascii: ":") {
                if dc != nil { return false }
                dc = k
                k += 2
            } else {
                k += 1
            }
        }
        if let dc {
            guard let head = groups(arr[..<dc][...]), let tail = groups(arr[(dc + 2)...][...]) else { return false }
            return head + tail <= 7
        }
        return groups(arr[...]) == 8
    }
}
