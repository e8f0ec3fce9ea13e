/// Standard base64 with padding (RFC 4648 §4), as signed notes and checkpoints use it. The
/// decoder is strict: the standard alphabet, padding to a multiple of four, zero unused bits.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let table: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            for shift in [18, 12, 6, 0] { out.append(Self.alphabet[Int(v >> UInt32(shift) & 63)]) }
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let v = UInt32(input[i]) << 16
            out.append(Self.alphabet[Int(v >> 18 & 63)])
            out.append(Self.alphabet[Int(v >> 12 & 63)])
            out.append(contentsOf: "==".utf8)
        } else if rest == 2 {
            let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(Self.alphabet[Int(v >> 18 & 63)])
            out.append(Self.alphabet[Int(v >> 12 & 63)])
            out.append(Self.alphabet[Int(v >> 6 & 63)])
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var i = 0
        while i < input.count {
            let isLast = i + 4 == input.count
            let pad = isLast ? input[(i + 2)...].filter { $0 == UInt8(ascii: "=") }.count : 0
            if isLast, pad == 1, input[i + 3] != UInt8(ascii: "=") { return nil }
            if isLast, pad == 2, input[i + 2] != UInt8(ascii: "=") || input[i + 3] != UInt8(ascii: "=") { return nil }
            var v: UInt32 = 0
            for j in 0..<4 {
                if j >= 4 - pad {
                    v <<= 6
                    continue
                }
                let d = Self.table[Int(input[i + j])]
                guard d != 0xFF else { return nil }
                v = v << 6 | UInt32(d)
            }
            out.append(UInt8(v >> 16 & 0xFF))
            if pad < 2 { out.append(UInt8(v >> 8 & 0xFF)) } else if v >> 8 & 0xFF != 0 { return nil }
            if pad < 1 { out.append(UInt8(v & 0xFF)) } else if v & 0xFF != 0 { return nil }
            i += 4
        }
        return out
    }
}

/// Lowercase hex.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(Self.digits[Int(byte >> 4)])
            out.append(Self.digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
