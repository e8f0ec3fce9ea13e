/// The JSON Canonicalization Scheme (RFC 8785) for the parts a writer cannot get wrong by
/// accident: numbers and strings. Object members sorted by the UTF-16 code units of their keys
/// and no whitespace are the writer's part (`JSONValue` in LatchIdentity does both and writes
/// every scalar through here), so Latch has one canonical encoder for what it signs and hashes.
///
/// - Numbers are IEEE 754 doubles written as ECMAScript's `Number.prototype.toString` does
///   (RFC 8785 §3.2.2.3): the shortest digits that read back as the same double, plain decimal
///   from 1e-6 up to below 1e21 and exponent form (`1e+21`, `1.5e-7`) outside, `-0` as `0`.
///   Integers are written as their exact decimal digits, which is ECMAScript's form for every
///   integer up to 2^53 in magnitude. RFC 8785 takes I-JSON input, so an `Int64` beyond 2^53 has
///   no canonical form; Latch still writes it exactly (records and claims round-trip) rather
///   than as the nearest double. Nothing Latch hashes or signs comes near that bound
///   (milliseconds since 1970 and microseconds of latency are both below 2^53 for 280 years).
/// - Strings (RFC 8785 §3.2.2.2): `"` and `\` escaped, U+0008, U+0009, U+000A, U+000C, U+000D as
///   `\b \t \n \f \r`, the other controls below U+0020 as `\u00xx` (lowercase hex), everything
///   else (including `/`, U+007F and non-ASCII) as its UTF-8 bytes.
public enum CanonicalJSON {
    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends an integer: its exact decimal digits (RFC 8785's form up to 2^53 in magnitude).
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    /// Appends a finite double as ECMAScript writes it; returns false (writing nothing) for NaN
    /// and the infinities, which JSON cannot hold (RFC 8785 makes them an error).
    @discardableResult
    public static func appendNumber(_ value: Double, to out: inout [UInt8]) -> Bool {
        guard value.isFinite else { return false }
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return true
        }
        // Swift's description is the shortest round-tripping digit string (like ECMAScript's);
        // only the layout differs. Read its digits and decimal exponent, then lay them out.
        let (digits, exponent) = Self.shortestDigits(value.magnitude)
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // The value is 0.d1d2…dk × 10^n: `n` is where the decimal point goes.
        let k = digits.count
        let n = exponent
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(contentsOf: "0.".utf8)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            out.append(UInt8(ascii: n - 1 < 0 ? "-" : "+"))
            out.append(contentsOf: String((n - 1).magnitude).utf8)
        }
        return true
    }

    /// The significant digits of a positive finite double (no leading or trailing zeros) and `n`
    /// such that the value is `0.digits × 10^n`.
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(value.description.utf8)
        var mantissa = text[...]
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissa = text[..<e]
            var sign = 1
            var rest = text[(e + 1)...]
            if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
                if first == UInt8(ascii: "-") { sign = -1 }
                rest = rest.dropFirst()
            }
            for digit in rest { exponent = exponent * 10 + Int(digit - UInt8(ascii: "0")) }
            exponent *= sign
        }
        var digits: [UInt8] = []
        var pointPosition = 0
        var sawPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") {
                sawPoint = true
                continue
            }
            digits.append(byte)
            if !sawPoint { pointPosition += 1 }
        }
        var n = pointPosition + exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            n -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, n)
    }

    /// Appends a JSON string literal escaped as RFC 8785 requires.
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let plain = string.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x08: out.append(contentsOf: "\\b".utf8)
            case 0x0C: out.append(contentsOf: "\\f".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(Self.hex[Int(byte >> 4)])
                out.append(Self.hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether `a` sorts before `b` as RFC 8785 orders object members (by UTF-16 code units).
    public static func keyPrecedes(_ a: String, _ b: String) -> Bool { a.utf16.lexicographicallyPrecedes(b.utf16) }
}
