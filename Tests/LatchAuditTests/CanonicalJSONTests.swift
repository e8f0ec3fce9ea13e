import LatchAudit
import LatchCore
import LatchIdentity
import LatchTesting
import Testing

@Suite("CanonicalJSON")
struct CanonicalJSONTests {
    static func text(_ value: Double) -> String {
        var out: [UInt8] = []
        CanonicalJSON.appendNumber(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test(
        "numbers are written as ECMAScript writes them (RFC 8785 §3.2.2.3 and appendix B)",
        arguments: [
            (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (4.5, "4.5"), (0.002, "0.002"), (1e-6, "0.000001"), (1e-7, "1e-7"),
            (1e21, "1e+21"), (1e20, "100000000000000000000"), (123456789012345680000.0, "123456789012345680000"),
            (333333333.33333329, "333333333.3333333"), (1e30, "1e+30"), (1e-27, "1e-27"), (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (-1.2345e-10, "-1.2345e-10"), (9007199254740992.0, "9007199254740992"),
            (295147905179352830000.0, "295147905179352830000"), (0.1, "0.1"), (1.5e-7, "1.5e-7"),
        ])
    func numbers(value: Double, expected: String) {
        #expect(Self.text(value) == expected)
    }

    @Test("integers are written exactly (RFC 8785's form up to 2^53; beyond, where it has none, still exactly)")
    func integers() {
        #expect(JSONValue.int(9_007_199_254_740_992).serialized == "9007199254740992")
        #expect(JSONValue.int(-9_007_199_254_740_992).serialized == "-9007199254740992")
        #expect(JSONValue.int(Int64.max).serialized == "9223372036854775807")
        #expect(JSONValue.int(Int64.min).serialized == "-9223372036854775808")
        #expect(JSONValue.int(1_764_000_000_123).serialized == "1764000000123")
    }

    @Test("numbers, strings and objects are encoded exactly as the rfc8785 package encodes them")
    func againstRFC8785Package() throws {
        var generator = SplitMix(seed: 8785)
        var doubles: [Double] = [0.1, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123.456, -0.5, 2.5e-5]
        while doubles.count < 2000 {
            let bits = generator.next()
            let value = Double(bitPattern: bits)
            if value.isFinite { doubles.append(value) }
            // Also numbers of ordinary size, where the layout switches.
            let exponent = Int(generator.next() % 50) - 25
            doubles.append(Double(generator.next() % 1_000_000) * pow10(exponent))
        }
        let strings: [JSONValue] = [
            .string("\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f}\u{7f}"), .string("\"\\/"), .string("€ 😀 é e\u{301}"),
            .object(["\u{20ac}": .int(1), "\r": .int(2), "1": .int(3), "\u{80}": .int(4), "😀": .int(5), "\u{fb33}": .int(6), "a": .array([])]),
            .object(["time": .int(1_764_000_000_123), "allowed": .bool(false), "policies": .array([.string("p1")]), "n": .null]),
        ]
        let request = JSONValue.object([
            "doubles": .array(doubles.map { .string(hex64($0.bitPattern)) }), "values": .array(strings),
        ])
        let run = try InteropScripts.run("canonical_json.py", input: request.serializedBytes)
        try #require(run.status == 0, "canonical_json.py failed; is rfc8785 installed?")
        let answer = try #require(JSONValue(parsing: run.output))
        let expectedDoubles = try #require(answer["doubles"]?.arrayValue)
        for (value, expected) in zip(doubles, expectedDoubles) {
            #expect(Self.text(value) == expected.stringValue, "\(value)")
        }
        let expectedValues = try #require(answer["values"]?.arrayValue)
        for (value, expected) in zip(strings, expectedValues) {
            #expect(value.serialized == expected.stringValue)
        }
    }

}

func pow10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<abs(exponent) { result *= 10 }
    return exponent < 0 ? 1 / result : result
}

func hex64(_ value: UInt64) -> String {
    let digits = Array("0123456789abcdef")
    return String((0..<16).reversed().map { digits[Int(value >> (UInt64($0) * 4) & 0xF)] })
}

/// A deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
