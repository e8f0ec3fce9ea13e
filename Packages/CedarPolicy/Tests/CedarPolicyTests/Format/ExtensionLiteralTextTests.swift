import Testing

@testable import CedarPolicy

/// Extension values written as text by the formatter and as JSON by the writer go through one
/// mapping (`ExtensionValue.constructorCall`), and both read back to the same value, including
/// datetimes outside the years 0000–9999, which have no datetime text.
@Suite("Extension literals as text and JSON")
struct ExtensionLiteralTextTests {
    static let u = EntityUID(type: EntityType(unchecked: "U"), id: "u")

    static let values: [ExtensionValue] = [
        .datetime(CedarDatetime(millis: 1_704_067_200_000)),
        // One millisecond before 0000-01-01, and 10000-01-01: no datetime text exists.
        .datetime(CedarDatetime(millis: -62_167_219_200_001)),
        .datetime(CedarDatetime(millis: 253_402_300_800_000)),
        .ipaddr(IPAddr(isV6: false, high: 0, low: 0x0A00_0000, prefix: 8)),
        .decimal(CedarDecimal(scaled: -15_000)),
        .duration(CedarDuration(millis: -93_600_000)),
    ]

    @Test("the formatter's text re-parses and evaluates to the value", arguments: Self.values.indices)
    func formatterText(_ i: Int) throws {
        let value = Self.values[i]
        let text = CedarFormatter.format(Expr(.literal(.ext(value))))
        let parsed = try CedarParser.parseExpression(text)
        let evaluated = try Evaluator(request: Request(principal: Self.u, action: Self.u, resource: Self.u), entities: Entities())
            .evaluate(parsed)
        #expect(evaluated == .ext(value), "\(text)")
        #expect(text.hasPrefix(value.constructorCall.function.rawValue + "(\""))
    }

    @Test("the JSON writer's form reads back to the value", arguments: Self.values.indices)
    func jsonForm(_ i: Int) throws {
        let value = Value.ext(Self.values[i])
        #expect(try Value(json: try JSONValue(parsing: value.json.serialized())) == value)
    }

    @Test("constructors are exactly the four string-to-extension functions")
    func constructors() {
        #expect(ExtensionFunction.allCases.filter(\.isConstructor).map(\.rawValue).sorted() == ["datetime", "decimal", "duration", "ip"])
        #expect(ExtensionLiteralCheck.isValid(.ip, "10.0.0.1"))
        #expect(!ExtensionLiteralCheck.isValid(.ip, "10.0.0.256"))
        #expect(!ExtensionLiteralCheck.isValid(.decimal, "1.23456"))
        #expect(ExtensionLiteralCheck.isValid(.isIpv4, "anything"))
    }
}
