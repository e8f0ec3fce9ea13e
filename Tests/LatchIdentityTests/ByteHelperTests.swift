import LatchIdentity
import Testing

/// The byte helpers take any collection: contiguous ones (arrays, slices, strings' UTF-8) go
/// through a fast path, others element by element; both must give the same answers.
@Suite("byte helpers")
struct ByteHelperTests {
    static let token = Array("thumbprint-1".utf8)

    @Test(
        "constantTimeEquals is true exactly for equal bytes, contiguous or not",
        arguments: [
            (Array("thumbprint-1".utf8), true), (Array("thumbprint-2".utf8), false), (Array("thumbprint-12".utf8), false),
            (Array("thumbprint-".utf8), false), ([], false),
        ])
    func constantTime(_ other: [UInt8], _ equal: Bool) {
        #expect(constantTimeEquals(Self.token, other) == equal)
        #expect(constantTimeEquals(other, Self.token) == equal)
        #expect(constantTimeEquals(String(decoding: other, as: UTF8.self).utf8, Self.token) == equal)
        #expect(constantTimeEquals(other.lazy.map { $0 }, Self.token.lazy.map { $0 }) == equal)
        #expect(constantTimeEquals(Self.token[...], other.lazy.map { $0 }) == equal)
    }

    @Test("constantTimeEquals compares slices by their own bytes; empty equals empty")
    func slicesAndEmpty() {
        #expect(constantTimeEquals(Self.token[1...], Array("humbprint-1".utf8)))
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
    }

    @Test("hexString writes two lowercase digits a byte, from arrays and from other sequences")
    func hex() {
        let bytes: [UInt8] = [0x00, 0x09, 0x0a, 0x0f, 0x10, 0x7f, 0xa0, 0xff]
        #expect(hexString(bytes) == "00090a0f107fa0ff")
        #expect(hexString(bytes.lazy.map { $0 }) == "00090a0f107fa0ff")
        #expect(hexString(bytes[6...]) == "a0ff")
        #expect(hexString([UInt8]()) == "")
    }

    @Test("base64url decodes the same from arrays, strings' UTF-8 and other collections, and stays strict")
    func base64URL() {
        #expect(Base64URL.decode(Array("aGVsbG8".utf8)) == Array("hello".utf8))
        #expect(Base64URL.decode("aGVsbG8".utf8) == Array("hello".utf8))
        #expect(Base64URL.decode(Array("aGVsbG8".utf8).lazy.map { $0 }) == Array("hello".utf8))
        #expect(Base64URL.decode("aGVsbG9".utf8) == nil)  // trailing bits not zero
        #expect(Base64URL.decode("aGVs bG8".utf8) == nil)
        #expect(Base64URL.decode(Array("aGVs+G8".utf8).lazy.map { $0 }) == nil)
    }
}
