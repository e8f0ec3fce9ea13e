/// Parsing, printing and range tests for Cedar `ipaddr` values.
///
/// Accepted text, as in Cedar: an IPv4 address in dotted decimal (four octets of at most three
/// digits, no leading zeros, each at most 255) or an IPv6 address (groups of one to four hex digits,
/// at most one `::` standing for at least one zero group), optionally followed by `/n` with a decimal
/// prefix length without leading zeros (at most 32 or 128). IPv4 embedded in IPv6
/// (`::ffff:1.2.3.4`), zone IDs and surrounding whitespace are rejected. The address keeps its
/// host bits: `10.0.0.1/24` and `10.0.0.0/24` are different values.
extension IPAddr: CustomStringConvertible {
    /// Parses Cedar `ip(...)` text such as `"10.0.0.0/8"` or `"fe80::1"`.
    public init(parsing text: String) throws(CedarError) {
        let bytes = Array(text.utf8)
        let slash = bytes.firstIndex(of: UInt8(ascii: "/"))
        let addrBytes = Array(bytes[..<(slash ?? bytes.count)])
        let hasColon = addrBytes.contains(UInt8(ascii: ":"))
        let hasDot = addrBytes.contains(UInt8(ascii: "."))
        if hasColon && hasDot {
            throw CedarError(
                .extensionError,
                "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 (e.g., ::ffff:127.0.0.1). Found: `\(text)`")
        }
        let isV6 = hasColon
        var high: UInt64 = 0
        var low: UInt64 = 0
        if isV6 {
            guard let (h, l) = Self.parseV6(addrBytes) else { throw CedarError(.extensionError, "invalid IP address: \(text)") }
            high = h
            low = l
        } else {
            guard let v = Self.parseV4(addrBytes) else { throw CedarError(.extensionError, "invalid IP address: \(text)") }
            low = UInt64(v)
        }
        let maxPrefix: UInt8 = isV6 ? 128 : 32
        var prefix = maxPrefix
        if let slash {
            let p = Array(bytes[(slash + 1)...])
            let ptext = String(decoding: p, as: UTF8.self)
            guard !p.isEmpty else {
                throw CedarError(.extensionError, "error parsing prefix from the string `\(ptext)`: cannot parse integer from empty string")
            }
            guard p.allSatisfy({ ASCII.digit($0) != nil }) else {
                throw CedarError(.extensionError, "error parsing prefix `\(ptext)`: encountered non-digit")
            }
            guard p.count == 1 || p[0] != UInt8(ascii: "0") else {
                throw CedarError(.extensionError, "error parsing prefix `\(ptext)`: leading zero(s)")
            }
            guard let n = ASCII.number(p, 0..<p.count), n <= Int64(maxPrefix) else {
                throw CedarError(.extensionError, "error parsing prefix: \(ptext) is larger than the limit \(maxPrefix)")
            }
            prefix = UInt8(n)
        }
        self.init(isV6: isV6, high: high, low: low, prefix: prefix)
    }

    /// Dotted-quad IPv4 as Rust's `Ipv4Addr` parser accepts it.
    private static func parseV4(_ b: [UInt8]) -> UInt32? {
        var result: UInt32 = 0
        var octets = 0
        var i = 0
        while true {
            let start = i
            while i < b.count, ASCII.digit(b[i]) != nil { i += 1 }
            let len = i - start
            guard len >= 1, len <= 3 else { return nil }
            if len > 1, b[start] == UInt8(ascii: "0") { return nil }
            guard let v = ASCII.number(b, start..<i), v <= 255 else { return nil }
            result = result << 8 | UInt32(v)
            octets += 1
            if octets == 4 { return i == b.count ? result : nil }
            guard i < b.count, b[i] == UInt8(ascii: ".") else { return nil }
            i += 1
        }
    }

    /// IPv6 text with optional `::` compression, as Rust's `Ipv6Addr` parser accepts it (minus
    /// embedded IPv4, rejected earlier).
    private static func parseV6(_ b: [UInt8]) -> (UInt64, UInt64)? {
        /// Reads `:`-separated groups from `i`; stops before `::` or at the end.
        func groups(_ i: inout Int, limit: Int) -> [UInt16]? {
            var out: [UInt16] = []
            while out.count < limit, i < b.count {
                if !out.isEmpty {
                    // need a single ':' followed by a hex digit
                    guard b[i] == UInt8(ascii: ":"), i + 1 < b.count, ASCII.hexDigit(b[i + 1]) != nil else { break }
                    i += 1
                }
                var v: UInt64 = 0
                var n = 0
                while i < b.count, n < 5, let d = ASCII.hexDigit(b[i]) {
                    v = v << 4 | d
                    n += 1
                    i += 1
                }
                if n == 0 && out.isEmpty { break }
                guard n >= 1, n <= 4 else { return nil }
                out.append(UInt16(v))
            }
            return out
        }
        var i = 0
        guard let head = groups(&i, limit: 8) else { return nil }
        var all: [UInt16]
        if head.count == 8 {
            guard i == b.count else { return nil }
            all = head
        } else {
            guard i + 1 < b.count, b[i] == UInt8(ascii: ":"), b[i + 1] == UInt8(ascii: ":") else { return nil }
            i += 2
            guard let tail = groups(&i, limit: 7 - head.count), i == b.count else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (k, g) in all.enumerated() {
            if k < 4 { high = high << 16 | UInt64(g) } else { low = low << 16 | UInt64(g) }
        }
        return (high, low)
    }

    /// The address as a 128-bit number (IPv4 in the low 32 bits).
    var bits: UInt128 { UInt128(self.high) << 64 | UInt128(self.low) }

    /// The first and last address of the network this value denotes.
    var range: (first: UInt128, last: UInt128) {
        let width = self.isV6 ? 128 : 32
        let hostBits = width - Int(self.prefix)
        let hostMask: UInt128 = hostBits == 0 ? 0 : (hostBits >= 128 ? ~0 : (UInt128(1) << hostBits) - 1)
        return (self.bits & ~hostMask, self.bits | hostMask)
    }

    /// Whether every address of `self` lies in `other` (both of the same IP version).
    public func isInRange(_ other: IPAddr) -> Bool {
        guard self.isV6 == other.isV6 else { return false }
        let a = self.range
        let b = other.range
        return b.first <= a.first && a.last <= b.last
    }

    /// `127.0.0.0/8` for IPv4, `::1` for IPv6 (the whole range must be inside).
    public var isLoopback: Bool {
        self.isInRange(self.isV6 ? IPAddr(isV6: true, high: 0, low: 1, prefix: 128) : IPAddr(isV6: false, high: 0, low: 0x7F00_0000, prefix: 8))
    }

    /// `224.0.0.0/4` for IPv4, `ff00::/8` for IPv6 (the whole range must be inside).
    public var isMulticast: Bool {
        self.isInRange(
            self.isV6 ? IPAddr(isV6: true, high: 0xFF00 << 48, low: 0, prefix: 8) : IPAddr(isV6: false, high: 0, low: 0xE000_0000, prefix: 4))
    }

    /// Dotted quad or compressed IPv6 text, with `/prefix` unless it is the full length.
    public var description: String {
        var out: String
        if self.isV6 {
            var g: [UInt16] = []
            for k in 0..<8 {
                let word = k < 4 ? self.high : self.low
                g.append(UInt16(truncatingIfNeeded: word >> (UInt64(3 - k % 4) * 16)))
            }
            // longest run of at least two zero groups
            var bestStart = -1
            var bestLen = 0
            var k = 0
            while k < 8 {
                if g[k] == 0 {
                    var e = k
                    while e < 8, g[e] == 0 { e += 1 }
                    if e - k > bestLen { (bestStart, bestLen) = (k, e - k) }
                    k = e
                } else {
                    k += 1
                }
            }
            func hex(_ r: Range<Int>) -> String { r.map { String(g[$0], radix: 16) }.joined(separator: ":") }
            out = bestLen >= 2 ? hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8) : hex(0..<8)
        } else {
            let v = UInt32(truncatingIfNeeded: self.low)
            out = "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        if self.prefix != (self.isV6 ? 128 : 32) { out += "/\(self.prefix)" }
        return out
    }
}
