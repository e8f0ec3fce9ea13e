/// `application/x-www-form-urlencoded` bodies (the OAuth endpoints' request format), decoded in
/// order with repeated names kept: RFC 8693 repeats `audience`, which Hummingbird's Codable form
/// decoder cannot represent. Nil for a body that is not well-formed (bad `%` escapes, not UTF-8).
enum FormBody {
    static func parse(_ bytes: [UInt8]) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        for field in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let cut = field.firstIndex(of: UInt8(ascii: "=")) ?? field.endIndex
            guard let name = Self.decode(field[..<cut]),
                let value = cut == field.endIndex ? "" : Self.decode(field[field.index(after: cut)...])
            else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            switch bytes[i] {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard i + 2 < bytes.endIndex, let high = Self.hex(bytes[i + 1]), let low = Self.hex(bytes[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 2
            case let byte: out.append(byte)
            }
            i += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
