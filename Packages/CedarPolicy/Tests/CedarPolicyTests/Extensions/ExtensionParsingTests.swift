import CedarPolicy
import Testing

@Suite("Extensions: decimal")
struct DecimalTests {
    static let valid: [(String, Int64)] = [
        ("0.0", 0), ("1.0", 10_000), ("1.5", 15_000), ("-1.5", -15_000), ("-0.5", -5_000), ("12.3456", 123_456),
        ("01.5", 15_000), ("0.0001", 1), ("-0.0001", -1), ("922337203685477.5807", .max), ("-922337203685477.5808", .min),
    ]
    static let invalid: [String] = [
        "", "1", "1.", ".5", "+1.5", "1.23456", "1.2.3", "a.b", "1,5", " 1.5", "1.5 ", "--1.5", "-.5", "922337203685477.5808",
        "-922337203685477.5809", "99999999999999999999.0", "1e3.0", "١.٥",
    ]

    @Test("parses valid decimal text", arguments: valid)
    func parses(_ text: String, _ scaled: Int64) throws {
        #expect(try CedarDecimal(parsing: text).scaled == scaled)
    }

    @Test("rejects malformed or out-of-range decimal text", arguments: invalid)
    func rejects(_ text: String) {
        #expect(throws: CedarError(.extensionError, "")) { try CedarDecimal(parsing: text) }
    }

    @Test("description round-trips", arguments: valid)
    func roundTrip(_ text: String, _ scaled: Int64) throws {
        let d = CedarDecimal(scaled: scaled)
        #expect(try CedarDecimal(parsing: d.description) == d)
    }

    @Test("description is the shortest form")
    func shortest() {
        #expect(CedarDecimal(scaled: 15_000).description == "1.5")
        #expect(CedarDecimal(scaled: -5_000).description == "-0.5")
        #expect(CedarDecimal(scaled: 0).description == "0.0")
        #expect(CedarDecimal(scaled: .min).description == "-922337203685477.5808")
    }
}

@Suite("Extensions: ipaddr")
struct IPAddrTests {
    static let valid: [(String, String)] = [
        ("0.0.0.0", "0.0.0.0"), ("127.0.0.1", "127.0.0.1"), ("255.255.255.255", "255.255.255.255"), ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.1/24", "10.0.0.1/24"), ("1.2.3.4/32", "1.2.3.4"), ("1.2.3.4/0", "1.2.3.4/0"), ("::", "::"), ("::1", "::1"),
        ("::/0", "::/0"), ("FE80::1", "fe80::1"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("1::", "1::"), ("2001:db8::ff00:42:8329/64", "2001:db8::ff00:42:8329/64"), ("0:0:0:0:0:0:0:1/128", "::1"),
        ("abcd:ef01::", "abcd:ef01::"),
    ]
    static let invalid: [String] = [
        "", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/08", "1.2.3.4/+8",
        "1.2.3.4/a", " 1.2.3.4", "1.2.3.4 ", "::ffff:1.2.3.4", "::ffff:127.0.0.1", "1::2::3", "1:2:3:4:5:6:7:8::", "00001::1",
        "1:2:3:4:5:6:7:8:9", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "::1/129", "fe80::1%eth0", "g::1", "1.2.3.4/32/1", "1..2.3",
        "-1.2.3.4",
    ]

    @Test("parses valid addresses and prints them canonically", arguments: valid)
    func parses(_ text: String, _ printed: String) throws {
        let a = try IPAddr(parsing: text)
        #expect(a.description == printed)
        #expect(try IPAddr(parsing: a.description) == a)
    }

    @Test("rejects what Cedar rejects", arguments: invalid)
    func rejects(_ text: String) {
        #expect(throws: CedarError(.extensionError, "")) { try IPAddr(parsing: text) }
    }

    static let predicates: [(String, ExtensionFunction, Bool)] = [
        ("127.0.0.1", .isLoopback, true), ("127.255.0.1/8", .isLoopback, true), ("127.0.0.1/4", .isLoopback, false),
        ("128.0.0.1", .isLoopback, false), ("::1", .isLoopback, true), ("::1/64", .isLoopback, false), ("::2", .isLoopback, false),
        ("224.0.0.1", .isMulticast, true), ("239.1.1.1/4", .isMulticast, true), ("224.0.0.1/3", .isMulticast, false),
        ("ff02::1", .isMulticast, true), ("ff00::/8", .isMulticast, true), ("fe00::/7", .isMulticast, false),
        ("1.2.3.4", .isIpv4, true), ("1.2.3.4", .isIpv6, false), ("::", .isIpv6, true), ("::", .isIpv4, false),
    ]

    @Test("isLoopback, isMulticast, isIpv4, isIpv6", arguments: predicates)
    func predicate(_ text: String, _ fn: ExtensionFunction, _ expected: Bool) throws {
        #expect(try fn.apply([.ext(.ipaddr(IPAddr(parsing: text)))]) == .bool(expected))
    }

    static let ranges: [(String, String, Bool)] = [
        ("10.0.0.0/24", "10.0.0.0/8", true), ("10.0.0.0/8", "10.0.0.0/24", false), ("10.1.2.3", "10.0.0.0/8", true),
        ("11.0.0.0", "10.0.0.0/8", false), ("10.0.0.1/24", "10.0.0.0/24", true), ("1.2.3.4", "::/0", false),
        ("::1", "::/0", true), ("::1", "1.2.3.4/0", false), ("0.0.0.0/0", "0.0.0.0/0", true), ("2001:db8::1", "2001:db8::/32", true),
    ]

    @Test("isInRange", arguments: ranges)
    func inRange(_ a: String, _ b: String, _ expected: Bool) throws {
        #expect(try IPAddr(parsing: a).isInRange(try IPAddr(parsing: b)) == expected)
    }
}

@Suite("Extensions: datetime")
struct DatetimeTests {
    static let valid: [(String, Int64)] = [
        ("1970-01-01", 0), ("2020-01-01", 1_577_836_800_000), ("2020-02-29", 1_582_934_400_000),
        ("2020-01-01T00:00:00Z", 1_577_836_800_000), ("2020-01-01T00:00:00.123Z", 1_577_836_800_123),
        ("2020-01-01T01:00:00+0100", 1_577_836_800_000), ("2019-12-31T23:00:00-0100", 1_577_836_800_000),
        ("2020-01-01T00:00:00.000+0000", 1_577_836_800_000), ("1969-12-31T23:59:59.999Z", -1), ("0000-01-01", -62_167_219_200_000),
        ("9999-12-31T23:59:59.999Z", 253_402_300_799_999), ("2020-01-01T00:00:00+2359", 1_577_750_460_000),
        ("2000-02-29", 951_782_400_000),
    ]
    static let invalid: [String] = [
        "", "2020", "2020-1-01", "20200-01-01", "-001-01-01", "2020-13-01", "2020-00-10", "2020-02-30", "2019-02-29", "1900-02-29",
        "2020-04-31", "2020-01-01T", "2020-01-01T00:00Z", "2020-01-01T00:00:00", "2020-01-01T24:00:00Z", "2020-01-01T23:60:00Z",
        "2020-01-01T23:59:60Z", "2020-01-01T00:00:00z", "2020-01-01T00:00:00.1Z", "2020-01-01T00:00:00.1234Z",
        "2020-01-01T00:00:00+2400", "2020-01-01T00:00:00+0060", "2020-01-01T00:00:00+01", "2020-01-01T00:00:00+01:00",
        "2020-01-01 00:00:00Z", "2020-01-01T00:00:00ZZ", "2020/01/01", "2020-01-01X",
    ]

    @Test("parses Cedar's datetime formats", arguments: valid)
    func parses(_ text: String, _ millis: Int64) throws {
        #expect(try CedarDatetime(parsing: text).millis == millis)
    }

    @Test("rejects other datetime text", arguments: invalid)
    func rejects(_ text: String) {
        #expect(throws: CedarError(.extensionError, "")) { try CedarDatetime(parsing: text) }
    }

    @Test("description round-trips", arguments: valid)
    func roundTrip(_ text: String, _ millis: Int64) throws {
        let d = CedarDatetime(millis: millis)
        #expect(try CedarDatetime(parsing: d.description) == d)
    }

    @Test("toDate and toTime, also before the epoch")
    func dateAndTime() throws {
        let d = try CedarDatetime(parsing: "1969-12-31T12:00:00Z")
        #expect(try d.toDate() == CedarDatetime(parsing: "1969-12-31"))
        #expect(d.toTime() == CedarDuration(millis: 12 * 3_600_000))
        let e = try CedarDatetime(parsing: "2024-10-15T11:35:00.5+0000".replacing5())
        #expect(try e.toDate() == CedarDatetime(parsing: "2024-10-15"))
        #expect(e.toTime().millis == (11 * 60 + 35) * 60_000 + 500)
        #expect(throws: CedarError(.overflow, "")) { try CedarDatetime(millis: .min).toDate() }
    }

    @Test("offset and durationSince, with overflow errors")
    func arithmetic() throws {
        let a = try CedarDatetime(parsing: "2020-01-01")
        let b = try CedarDatetime(parsing: "2019-12-31")
        #expect(try a.durationSince(b) == CedarDuration(parsing: "1d"))
        #expect(try b.offset(by: CedarDuration(parsing: "1d")) == a)
        #expect(throws: CedarError(.overflow, "")) { try a.offset(by: CedarDuration(millis: .max)) }
        #expect(throws: CedarError(.overflow, "")) { try CedarDatetime(millis: .min).durationSince(a) }
    }
}

extension String {
    /// "…00.5+0000" is not valid Cedar (three digits needed); tests use this to build "…00.500+0000".
    fileprivate func replacing5() -> String { self.replacingSuffix(".5+0000", with: ".500+0000") }

    fileprivate func replacingSuffix(_ suffix: String, with other: String) -> String {
        self.hasSuffix(suffix) ? String(self.dropLast(suffix.count)) + other : self
    }
}

@Suite("Extensions: duration")
struct DurationTests {
    static let valid: [(String, Int64)] = [
        ("0ms", 0), ("0d", 0), ("-0s", 0), ("1ms", 1), ("1s", 1000), ("1m", 60_000), ("1h", 3_600_000), ("1d", 86_400_000),
        ("1d2h3m4s5ms", 93_784_005), ("-1d2h", -93_600_000), ("90m", 5_400_000), ("01h", 3_600_000), ("1h30m", 5_400_000),
        ("9223372036854775807ms", .max), ("-9223372036854775808ms", .min), ("106751991167d", 106_751_991_167 * 86_400_000),
    ]
    static let invalid: [String] = [
        "", "-", "d", "1", "1D", "1 d", "+1d", "2h1d", "1h1h", "1ms1s", "1d1", "1.5h", "1d-2h", "9223372036854775808ms",
        "-9223372036854775809ms", "106751991168d", "1y", "1msx", "1mss",
    ]

    @Test("parses Cedar's duration format", arguments: valid)
    func parses(_ text: String, _ millis: Int64) throws {
        #expect(try CedarDuration(parsing: text).millis == millis)
    }

    @Test("rejects other duration text", arguments: invalid)
    func rejects(_ text: String) {
        #expect(throws: CedarError(.extensionError, "")) { try CedarDuration(parsing: text) }
    }

    @Test("description round-trips", arguments: valid)
    func roundTrip(_ text: String, _ millis: Int64) throws {
        let d = CedarDuration(millis: millis)
        #expect(try CedarDuration(parsing: d.description) == d)
    }

    @Test("unit conversions truncate toward zero")
    func conversions() throws {
        let d = try CedarDuration(parsing: "-1d2h3m4s5ms")
        #expect(d.toMilliseconds == -93_784_005)
        #expect(d.toSeconds == -93_784)
        #expect(d.toMinutes == -1563)
        #expect(d.toHours == -26)
        #expect(d.toDays == -1)
        #expect(try ExtensionFunction.toSeconds.apply([.ext(.duration(CedarDuration(parsing: "1500ms")))]) == .long(1))
    }
}

@Suite("Extensions: function lookup and application")
struct ExtensionFunctionTests {
    @Test("every function is found by its Cedar name", arguments: ExtensionFunction.allCases)
    func lookup(_ fn: ExtensionFunction) {
        #expect(ExtensionFunction(name: fn.rawValue) == fn)
    }

    @Test("unknown names are not functions")
    func unknown() {
        #expect(ExtensionFunction(name: "ipaddr") == nil)
        #expect(ExtensionFunction(name: "Decimal") == nil)
    }

    static let applications: [(ExtensionFunction, [Value], Value?)] = [
        (.lessThan, [dec("1.0"), dec("2.0")], .bool(true)), (.lessThanOrEqual, [dec("2.0"), dec("2.0")], .bool(true)),
        (.greaterThan, [dec("-1.0"), dec("2.0")], .bool(false)), (.greaterThanOrEqual, [dec("2.0"), dec("2.0")], .bool(true)),
        (.lessThan, [dec("1.0"), .long(2)], nil), (.isIpv4, [.string("1.2.3.4")], nil), (.decimal, [.long(1)], nil),
        (.toDays, [.ext(.duration(CedarDuration(millis: 86_400_000 * 3)))], .long(3)),
        (.toHours, [.ext(.datetime(CedarDatetime(millis: 0)))], nil),
        (.offset, [.ext(.datetime(CedarDatetime(millis: 0))), .ext(.duration(CedarDuration(millis: 5)))], .ext(.datetime(CedarDatetime(millis: 5)))),
        (
            .durationSince, [.ext(.datetime(CedarDatetime(millis: 0))), .ext(.datetime(CedarDatetime(millis: 5)))],
            .ext(.duration(CedarDuration(millis: -5)))
        ),
        (.lessThan, [dec("1.0")], nil),
    ]

    @Test("apply checks argument types and count", arguments: applications)
    func apply(_ fn: ExtensionFunction, _ args: [Value], _ expected: Value?) {
        let result = try? fn.apply(args)
        #expect(result == expected)
    }

    static func dec(_ s: String) -> Value {
        (try? CedarDecimal(parsing: s)).map { .ext(.decimal($0)) } ?? .bool(false)
    }
}
