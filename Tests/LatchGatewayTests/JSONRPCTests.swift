import LatchIdentity
import Testing

@testable import LatchGateway

@Suite("JSONRPC")
struct JSONRPCTests {
    static let results: [JSONValue] = [
        .object([:]),
        .object([
            "content": .array([.object(["type": .string("text"), "text": .string("h\u{e9} \"quoted\"\n\\")])]), "isError": .bool(false),
            "_meta": .object(["dev.latch/sensitivity": .string("public"), "z": .null, "A": .int(-3)]),
        ]),
    ]

    @Test(
        "a result response is byte for byte the canonical serialization of its envelope",
        arguments: [JSONValue.int(0), .int(-42), .string("id-1"), .string("\u{1F600}\"\\"), .null])
    func resultBytes(_ id: JSONValue) {
        for result in Self.results {
            #expect(JSONRPC.result(id: id, result) == JSONValue.object(["jsonrpc": .string("2.0"), "id": id, "result": result]).serializedBytes)
        }
        #expect(JSONRPC.result(id: nil, .object([:])) == Array(#"{"id":null,"jsonrpc":"2.0","result":{}}"#.utf8))
    }
}
