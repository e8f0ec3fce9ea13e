import LatchCore
import LatchIdentity
import LatchStoreSupport
import Testing

@Suite("AttributesJSON")
struct AttributesJSONTests {
    @Test(
        "encodes canonically: keys sorted by UTF-16, no whitespace, minimal escapes",
        arguments: [
            ([:], "{}"),
            (["b": .long(-1), "a": .bool(true), "B": .bool(false)], #"{"B":false,"a":true,"b":-1}"#),
            (["s": .string("q\"b\\n\nt\tc\u{1}é🧪")], #"{"s":"q\"b\\n\nt\tc\u0001é🧪"}"#),
            (["l": .strings([]), "m": .strings(["x", ""])], #"{"l":[],"m":["x",""]}"#),
            (["max": .long(Int64.max), "min": .long(Int64.min)], #"{"max":9223372036854775807,"min":-9223372036854775808}"#),
            // U+FF61 sorts after U+1F600 by code point but before it by UTF-16 (surrogates are D8xx).
            (["\u{FF61}": .long(1), "\u{1F600}": .long(2)], "{\"\u{1F600}\":2,\"\u{FF61}\":1}"),
        ] as [([String: EntryAttribute], String)])
    func encodes(_ attributes: [String: EntryAttribute], _ expected: String) throws {
        let text = AttributesJSON.encode(attributes)
        #expect(Array(text.unicodeScalars) == Array(expected.unicodeScalars))
        #expect(try AttributesJSON.decode(text) == attributes)
    }

    @Test(
        "decodes escapes written by other JSON writers to the same values",
        arguments: [
            (#"{"a":"\u00e9\/\b\f\r\ud83e\uddea"}"#, ["a": EntryAttribute.string("é/\u{8}\u{C}\r🧪")]),
            (#"{"z":0,"y":[]}"#, ["z": .long(0), "y": .strings([])]),
        ] as [(String, [String: EntryAttribute])])
    func decodesEscapes(_ text: String, _ expected: [String: EntryAttribute]) throws {
        #expect(try AttributesJSON.decode(text) == expected)
    }

    @Test(
        "rejects anything but the canonical shape",
        arguments: [
            "", "[]", "{", "{}x", "{} ", #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":null}"#, #"{"a":{}}"#, #"{"a":[1]}"#,
            #"{"a":01}"#, #"{"a":-}"#, #"{"a":9223372036854775808}"#, #"{"a":1,"a":2}"#, #"{a:1}"#, #"{"a":tru}"#,
            #"{"a":"\x"}"#, #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, #"{"a":"\u12"}"#, "{\"a\":\"\u{1}\"}", #"{"a":"open}"#,
            #"{"a":1,}"#, #"{"a":["x",]}"#,
        ])
    func rejects(_ text: String) {
        #expect(throws: LatchError(.invalidInput, "")) { try AttributesJSON.decode(text) }
    }
}
