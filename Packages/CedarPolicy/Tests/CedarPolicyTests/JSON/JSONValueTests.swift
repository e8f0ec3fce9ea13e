import Testing

@testable import CedarPolicy

@Suite("JSONValue reading and writing")
struct JSONValueTests {
    @Test("parses scalars, arrays and objects", arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        (" false ", .bool(false)),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-9223372036854775808", .int(Int64.min)),
        ("9223372036854775807", .int(Int64.max)),
        ("9223372036854775808", .double(9223372036854775808.0)),
        ("1.5", .double(1.5)),
        ("-2e3", .double(-2000)),
        ("1E+2", .double(100)),
        ("\"a\\nb\"", .string("a\nb")),
        ("\"\\u00e9\\/\"", .string("é/")),
        ("\"\\ud83d\\ude00\"", .string("😀")),
        ("\"😀\"", .string("😀")),
        ("[]", .array([])),
        ("[1, \"x\", [true]]", .array([.int(1), .string("x"), .array([.bool(true)])])),
        ("{}", .object(JSONObject())),
        ("{\"a\": 1, \"b\": [null]}", ["a": 1, "b": [nil]] as JSONValue),
    ])
    func parsesValid(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(parsing: text) == expected)
        #expect(try JSONValue(parsing: Array(text.utf8)) == expected)
        let padded = Array(("xx" + text + "yy").utf8)
        #expect(try JSONValue(parsing: padded[2..<(padded.count - 2)]) == expected)
    }

    @Test("rejects malformed input with a json error", arguments: [
        "", " ", "tru", "nul", "01", "-", "1.", ".5", "1e", "+1", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}",
        "{a:1}", "'x'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"a\u{01}b\"", "\"tab\there\"", "[1] x", "1e400", "NaN", "Infinity", "{\"a\":1,\"a\":2}", "\u{FEFF}1",
    ])
    func rejectsMalformed(text: String) {
        #expect(throws: CedarError(.json, "")) { try JSONValue(parsing: text) }
    }

    @Test("rejects invalid UTF-8 inside strings")
    func rejectsInvalidUTF8() {
        #expect(throws: CedarError(.json, "")) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        #expect(throws: CedarError(.json, "")) { try JSONValue(parsing: [0x22, 0xED, 0xA0, 0x80, 0x22]) }  // encoded surrogate
        #expect(throws: CedarError(.json, "")) { try JSONValue(parsing: [0xC3, 0xA9]) }  // non-ASCII outside strings
    }

    @Test("duplicate keys are reported with their position")
    func duplicateKeyLocation() {
        do {
            _ = try JSONValue(parsing: "{\n  \"a\": 1,\n  \"a\": 2\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .json)
            #expect(error.location?.line == 3)
            #expect(error.location?.column == 3)
            #expect(error.message.contains("duplicate key"))
        }
    }

    @Test("error columns count Unicode scalars")
    func columnsInScalars() {
        do {
            _ = try JSONValue(parsing: "[\"é😀\", x]")
            Issue.record("expected an error")
        } catch {
            #expect(error.location?.line == 1)
            #expect(error.location?.column == 8)
        }
    }

    @Test("nesting beyond the depth limit is limitExceeded, at the limit is fine")
    func depthLimit() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        _ = try JSONValue(parsing: ok)
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        #expect(throws: CedarError(.limitExceeded, "")) { try JSONValue(parsing: deep) }
        let veryDeep = String(repeating: "{\"a\":", count: 100_000)
        #expect(throws: CedarError(.limitExceeded, "")) { try JSONValue(parsing: veryDeep) }
        let custom = JSONValue.Limits(maxDepth: 2)
        #expect(throws: CedarError(.limitExceeded, "")) { try JSONValue(parsing: "[[[1]]]", limits: custom) }
    }

    @Test("input larger than the size limit is limitExceeded")
    func sizeLimit() {
        let limits = JSONValue.Limits(maxBytes: 10)
        #expect(throws: CedarError(.limitExceeded, "")) { try JSONValue(parsing: "\"0123456789\"", limits: limits) }
    }

    @Test("objects keep key order; equality ignores it")
    func objectOrder() throws {
        let v = try JSONValue(parsing: "{\"z\":1,\"a\":2,\"m\":3}")
        #expect(v.objectValue?.keys == ["z", "a", "m"])
        #expect(v.serialized() == "{\"z\":1,\"a\":2,\"m\":3}")
        #expect(v == (try JSONValue(parsing: "{\"a\":2,\"m\":3,\"z\":1}")))
        #expect(v != (try JSONValue(parsing: "{\"a\":2,\"m\":3,\"z\":2}")))
        #expect(Set([v, try JSONValue(parsing: "{\"m\":3,\"a\":2,\"z\":1}")]).count == 1)
    }

    @Test("serialized escapes strings and round-trips", arguments: [
        "a\"b\\c", "line\nbreak\r\t", "\u{00}\u{1F}\u{7F}", "é😀", "</script>",
    ])
    func serializeStrings(s: String) throws {
        let text = JSONValue.string(s).serialized()
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 })
        #expect(try JSONValue(parsing: text) == .string(s))
    }

    @Test("serialized output is compact and exact")
    func serializeCompact() {
        let v: JSONValue = ["a": [1, -2, true, nil, "x"], "b": ["c": 1.5], "d": .double(3)]
        #expect(v.serialized() == "{\"a\":[1,-2,true,null,\"x\"],\"b\":{\"c\":1.5},\"d\":3.0}")
        #expect(JSONValue.string("\u{01}").serialized() == "\"\\u0001\"")
    }

    @Test("pretty output indents members and reads back to the same value")
    func pretty() throws {
        let v: JSONValue = ["a": [1, ["b": []]], "c": [:] as JSONValue]
        #expect(v.prettySerialized() == "{\n  \"a\": [\n    1,\n    {\n      \"b\": []\n    }\n  ],\n  \"c\": {}\n}")
        #expect(try JSONValue(parsing: v.prettySerialized(indent: 4)) == v)
    }

    @Test("large objects index their keys and still reject duplicates and keep order")
    func largeObjects() throws {
        let members = (0..<50).map { "\"k\($0)\": \($0)" }
        let v = try JSONValue(parsing: "{" + members.joined(separator: ",") + "}")
        #expect(v.objectValue?.count == 50)
        #expect(v["k37"] == 37)
        #expect(v.objectValue?.keys.last == "k49")
        #expect(throws: CedarError(.json, "")) { try JSONValue(parsing: "{" + members.joined(separator: ",") + ", \"k3\": 1}") }
        var o = v.objectValue ?? JSONObject()
        o["k10"] = nil
        #expect(o["k11"] == 11 && o["k10"] == nil && o.count == 49)
        let insertedExisting = o.insert("k12", 0)
        let insertedNew = o.insert("k10", 0)
        #expect(!insertedExisting)
        #expect(insertedNew && o.keys.last == "k10")
    }

    @Test("JSON Lines yields each non-blank line with its line number")
    func jsonLines() {
        let text = "{\"a\":1}\r\n\n  \n[2]\n{bad}\n3"
        let lines = Array(JSONLines(Array(text.utf8)))
        #expect(lines.map(\.line) == [1, 4, 5, 6])
        #expect((try? lines[0].result.get()) == ["a": 1])
        #expect((try? lines[1].result.get()) == [2])
        #expect((try? lines[3].result.get()) == 3)
        guard case .failure(let e) = lines[2].result else {
            Issue.record("line 5 should fail")
            return
        }
        #expect(e.location?.line == 5)
        #expect(e.location?.column == 2)
        #expect(e.location?.offset == 18)
    }

    @Test("random mutations of valid JSON never crash or hang and round-trip when accepted")
    func randomMutations() {
        var rng = SplitMix64(seed: 0x5EED)
        let seeds = [
            "{\"uid\":{\"type\":\"User\",\"id\":\"al\\u00e9\"},\"attrs\":{\"n\":[1,2.5e3,-0,true,null]},\"parents\":[]}",
            "[\"\\ud83d\\ude00\",{\"a\":{\"b\":{\"c\":[[[]]]}}},\"x\\\"y\",123456789012345678901234]",
            "{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.23\"}}",
        ]
        let alphabet: [UInt8] = Array("{}[]\",:\\u0123456789.eE+-truefalsnl \n\t".utf8) + [0x00, 0x80, 0xC3, 0xFF, 0xED]
        var accepted = 0
        for i in 0..<20_000 {
            var bytes = Array(seeds[i % seeds.count].utf8)
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let pos = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0 where !bytes.isEmpty: bytes.remove(at: pos)
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                case 2 where !bytes.isEmpty: bytes[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                default: bytes = Array(bytes.prefix(pos))
                }
            }
            do {
                let v = try JSONValue(parsing: bytes)
                accepted += 1
                #expect((try? JSONValue(parsing: v.serialized())) == v)
            } catch {
                #expect(error.code == .json || error.code == .limitExceeded)
                #expect(error.location != nil)
            }
        }
        #expect(accepted > 0)
    }
}
