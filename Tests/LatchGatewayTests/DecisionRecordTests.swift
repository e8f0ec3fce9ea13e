import LatchCore
import LatchGateway
import LatchIdentity
import LatchTesting
import Testing

@Suite("DecisionRecord JSON")
struct DecisionRecordTests {
    @Test("a record reads back equal from its canonical JSON, with every field set or only the required ones")
    func roundTrip() throws {
        for record in [ConformanceValues.fullDecisionRecord("full"), ConformanceValues.decisionRecord("minimal")] {
            #expect(try DecisionRecord(json: record.json) == record)
            let text = record.json.serialized
            let parsed = try #require(JSONValue(parsing: text.utf8))
            #expect(try DecisionRecord(json: parsed) == record, "through its serialized text")
        }
        let minimal = ConformanceValues.decisionRecord("minimal").json.objectValue ?? [:]
        #expect(minimal["tool"] == nil && minimal["reason"] == nil, "absent fields are left out, not null")
    }

    @Test(
        "a record that is not exactly what json writes is an error naming the key",
        arguments: [
            ("id", nil, "\"id\""),
            ("time", .string("1700000000456"), "\"time\""),
            ("time", .double(1.5), "\"time\""),
            ("latency_us", nil, "\"latency_us\""),
            ("allowed", .int(1), "\"allowed\""),
            ("actors", .array([.string("spiffe://example.org/a"), .int(1)]), "\"actors\""),
            ("policies", .string("p"), "\"policies\""),
            ("tool", .null, "\"tool\""),
            ("prompt", .int(3), "\"prompt\""),
            ("prompt_sha256", .string("ab"), "unknown key \"prompt_sha256\""),
            ("prompt_sealed", .int(3), "\"prompt_sealed\""),
            ("argument_hmacs", .object([:]), "\"argument_hmacs\""),
            ("argument_hmacs", .object(["iban": .int(1)]), "\"argument_hmacs\""),
            ("facts", .object([:]), "\"facts\""),
            ("facts", .object(["session": .object([:]), "tainted_arguments": .array([])]), "\"facts.session."),
            ("extra", .string("x"), "unknown key \"extra\""),
        ] as [(String, JSONValue?, String)])
    func strict(key: String, value: JSONValue?, message: String) throws {
        var object = try #require(ConformanceValues.fullDecisionRecord("r").json.objectValue)
        object[key] = value
        do {
            _ = try DecisionRecord(json: .object(object))
            Issue.record("accepted a record with \(key) = \(String(describing: value))")
        } catch {
            #expect(error.code == .invalidInput)
            #expect(error.message.contains(message), "\(error.message)")
            #expect(!error.message.contains("Résumé"), "the prompt is not echoed")
        }
    }

    @Test("JSON that is not an object is not a record")
    func notAnObject() {
        #expect(throws: LatchError(.invalidInput, "")) { try DecisionRecord(json: .array([])) }
        #expect(throws: LatchError(.invalidInput, "")) { try DecisionRecord(json: .string("{}")) }
    }
}
