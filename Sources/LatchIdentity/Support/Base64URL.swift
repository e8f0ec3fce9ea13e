/// Unpadded base64url (RFC 4648 §5) as JWS uses it, and standard base64 for `x5c`.
///
/// The decoder is strict: only the base64url alphabet, no padding, no whitespace, and the unused
/// low bits of the last character must be zero (so every token has exactly one encoding).
public enum Base64URL {
    static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in urlAlphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()
    private static let standardDecodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in standardAlphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodeBytes(bytes, alphabet: urlAlphabet, pad: false), as: UTF8.self)
    }

    /// Standard base64 with padding (for `x5c` and PEM-like uses).
    public static func encodeStandard(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encodeBytes(bytes, alphabet: standardAlphabet, pad: true), as: UTF8.self)
    }

    /// Appends the unpadded base64url of `bytes` to `out` (token writers build whole tokens as bytes).
    package static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(contentsOf: bytes.withUnsafeBufferPointer { Self.encode($0, alphabet: Self.urlAlphabet, pad: false) })
    }

    static func encodeBytes(_ bytes: some Collection<UInt8>, alphabet: [UInt8], pad: Bool) -> [UInt8] {
        // Generic callers reach here unspecialized (other modules): encode from contiguous memory.
        if let encoded = bytes.withContiguousStorageIfAvailable({ Self.encode($0, alphabet: alphabet, pad: pad) }) { return encoded }
        return Array(bytes).withUnsafeBufferPointer { Self.encode($0, alphabet: alphabet, pad: pad) }
    }

    private static func encode(_ input: UnsafeBufferPointer<UInt8>, alphabet: [UInt8], pad: Bool) -> [UInt8] {
        let whole = input.count / 3
        let rest = input.count - whole * 3
        let count = whole * 4 + (rest == 0 ? 0 : (pad ? 4 : rest + 1))
        return alphabet.withUnsafeBufferPointer { alphabet in
            [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                var o = 0
                var i = 0
                for _ in 0..<whole {
                    let (b0, b1, b2) = (input[i], input[i + 1], input[i + 2])
                    out[o] = alphabet[Int(b0 >> 2)]
                    out[o + 1] = alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    out[o + 2] = alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)]
                    out[o + 3] = alphabet[Int(b2 & 0x3F)]
                    i += 3
                    o += 4
                }
                if rest > 0 {
                    let b0 = input[i]
                    let b1: UInt8 = rest == 2 ? input[i + 1] : 0
                    out[o] = alphabet[Int(b0 >> 2)]
                    out[o + 1] = alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)]
                    o += 2
                    if rest == 2 {
                        out[o] = alphabet[Int((b1 & 0x0F) << 2)]
                        o += 1
                    } else if pad {
                        out[o] = UInt8(ascii: "=")
                        o += 1
                    }
                    if pad {
                        out[o] = UInt8(ascii: "=")
                        o += 1
                    }
                }
                initialized = o
            }
        }
    }

    /// Decodes unpadded base64url; nil if any character is outside the alphabet or the length or
    /// trailing bits are not canonical.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        decode(text, table: decodeTable)
    }

    /// Decodes standard base64, padding optional but canonical when present.
    public static func decodeStandard(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        var pads = 0
        while bytes.last == UInt8(ascii: "=") && pads < 2 {
            bytes.removeLast()
            pads += 1
        }
        if pads > 0 && (bytes.count + pads) % 4 != 0 { return nil }
        return decode(bytes, table: standardDecodeTable)
    }

    static func decode(_ text: some Collection<UInt8>, table: [UInt8]) -> [UInt8]? {
        // Generic callers reach here unspecialized (other modules): decode from contiguous memory.
        if let decoded = text.withContiguousStorageIfAvailable({ Self.decode($0, table: table) }) { return decoded }
        return Array(text).withUnsafeBufferPointer { Self.decode($0, table: table) }
    }

    private static func decode(_ text: UnsafeBufferPointer<UInt8>, table: [UInt8]) -> [UInt8]? {
        let count = text.count
        if count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in text {
            let v = table[Int(c)]
            if v == 0xFF { return nil }
            acc = (acc << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero for a canonical encoding.
        if bits > 0 && (acc & ((1 << UInt32(bits)) - 1)) != 0 { return nil }
        return out
    }
}

/// Compares two byte sequences in time that depends only on their lengths.
///
/// - Important: use for secrets (tokens, MACs); `==` on arrays returns at the first difference.
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    if a.count != b.count { return false }
    // Callers in other modules reach this unspecialized: element by element through the generic
    // protocols, two digests cost more than the ECDSA check of a DPoP proof. From contiguous
    // memory (arrays, native strings' UTF-8) it is a plain loop.
    let contiguous = a.withContiguousStorageIfAvailable { a in
        b.withContiguousStorageIfAvailable { b in constantTimeEqualBuffers(a, b) }
    }
    if let result = contiguous ?? nil { return result }
    var diff: UInt8 = 0
    for (x, y) in zip(a, b) { diff |= x ^ y }
    return diff == 0
}

private func constantTimeEqualBuffers(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for index in 0..<a.count { diff |= a[index] ^ b[index] }
    return diff == 0
}

/// Lowercase hexadecimal.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    // From contiguous memory when the bytes are in it (callers in other modules reach this unspecialized).
    if let hex = bytes.withContiguousStorageIfAvailable({ hexOfBuffer($0) }) { return hex }
    return Array(bytes).withUnsafeBufferPointer { hexOfBuffer($0) }
}

private func hexOfBuffer(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2, initializingUTF8With: { out in
        for (index, b) in bytes.enumerated() {
            out[2 * index] = hexDigit(b >> 4)
            out[2 * index + 1] = hexDigit(b & 0x0F)
        }
        return bytes.count * 2
    })
}

private func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value }
