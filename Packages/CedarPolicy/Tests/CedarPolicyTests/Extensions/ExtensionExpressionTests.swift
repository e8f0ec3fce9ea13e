import CedarPolicy
import Testing

@Suite("ExtensionValue.cedarExpression")
struct ExtensionExpressionTests {
    @Test("constructor text", arguments: [
        (ExtensionFunction.decimal, "1.2300", "decimal(\"1.23\")"),
        (.decimal, "-922337203685477.5808", "decimal(\"-922337203685477.5808\")"),
        (.ip, "10.0.0.0/8", "ip(\"10.0.0.0/8\")"),
        (.ip, "127.0.0.1", "ip(\"127.0.0.1\")"),
        (.datetime, "2024-10-15T11:35:00.500-0230", "datetime(\"2024-10-15T14:05:00.500Z\")"),
        (.datetime, "0000-01-01", "datetime(\"0000-01-01\")"),
        (.datetime, "9999-12-31T23:59:59.999Z", "datetime(\"9999-12-31T23:59:59.999Z\")"),
        (.duration, "90m", "duration(\"1h30m\")"),
        (.duration, "0s", "duration(\"0ms\")"),
    ])
    func text(_ fn: ExtensionFunction, _ argument: String, _ want: String) throws {
        guard case .ext(let v) = try fn.apply([.string(argument)]) else {
            Issue.record("not an extension value")
            return
        }
        #expect(v.cedarExpression == want)
        #expect(v.constructor == fn)
        #expect(v.description == want)
    }

    /// Datetimes around and far beyond the years 0000-9999, including the extremes `offset` can reach.
    static let datetimeMillis: [Int64] = [
        -62_167_219_200_001, -62_167_219_200_000, 0, 253_402_300_799_999, 253_402_300_800_000, Int64.min, Int64.max, -1,
    ]

    @Test("the text parses and evaluates back to the same value, in and out of the years 0000-9999", arguments: datetimeMillis)
    func roundTrip(_ millis: Int64) throws {
        let values: [ExtensionValue] = [.datetime(CedarDatetime(millis: millis)), .duration(CedarDuration(millis: millis))]
        for v in values {
            let expr = try CedarParser.parseExpression(v.cedarExpression)
            #expect(try Evaluator(request: Fixture.request, entities: Fixture.entities).evaluate(expr) == .ext(v), "\(v.cedarExpression)")
        }
        let d = CedarDatetime(millis: millis)
        #expect(d.hasTextForm == ((try? CedarDatetime(parsing: d.description)) == d))
        #expect(ExtensionValue.datetime(d).constructorArgument == (d.hasTextForm ? d.description : nil))
    }
}
