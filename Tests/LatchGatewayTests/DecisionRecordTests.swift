import LatchAudit
import LatchCore
import LatchGrants
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

    @Test("the direct canonical writer gives the generic serializer's bytes, for records with any mix of fields")
    func canonicalWriter() throws {
        let full = ConformanceValues.fullDecisionRecord("full")
        var records = [full, ConformanceValues.decisionRecord("minimal")]
        // Every optional field present or absent, a set of them at a time (the bits of `mask`),
        // with strings JSON must escape and argument names that sort differently by UTF-16 code
        // units (RFC 8785) than by UTF-8 bytes (U+FFFF against a surrogate pair).
        let text = "q \" b \\ n \n t \t c \u{1} \u{0} é 漢 🧑🏽‍💻 \u{FFFF}"
        for mask in 0..<64 {
            func on(_ bit: Int) -> Bool { mask & (1 << bit) != 0 }
            var record = ConformanceValues.decisionRecord("r\(mask)", allowed: on(0), tool: on(1) ? text : nil)
            record.actors = on(2) ? [text, "spiffe://example.org/b"] : []
            record.argumentsHMAC = on(3) ? String(repeating: "ab", count: 32) : nil
            record.argumentHMACs = on(4) ? ["\u{FFFF}": "a", "😀": "b", "to": "c", "": "d", "To": text] : [:]
            record.argumentsSealed = on(5) ? "c2VhbGVk" : nil
            record.promptHMAC = on(0) != on(1) ? String(repeating: "0f", count: 32) : nil
            record.promptSealed = on(2) && on(3) ? "cHJvbXB0" : nil
            record.reason = on(4) ? "policy_denied" : nil
            record.message = on(5) ? text : nil
            record.policies = on(1) ? ["b", "a", text] : []
            record.policyErrors = on(3) ? [text] : []
            record.destination = on(0) && on(5) ? "external" : nil
            record.upstreamOutcome = on(2) != on(4) ? "forwarded" : nil
            record.traceID = on(1) && on(4) ? "4bf92f3577b34da6a3ce929d0e0e4736" : nil
            record.latencyMicros = on(3) ? Int64.max : Int64(mask) - 32
            record.time = on(5) ? Int64.min : 1_700_000_000_000 + Int64(mask)
            record.decisionID = on(0) && on(2) ? "d-\(mask)" : nil
            record.approvalID = on(1) && on(3) ? "ap-\(mask)" : nil
            if on(2) || on(5) {
                record.facts = DecisionFacts(
                    calls: Int64(mask), denials: on(1) ? -1 : 0, toolsUsed: on(3) ? [text, "a.b"] : [],
                    maxSensitivityRead: on(4) ? .confidential : nil, dataDomainsRead: on(0) ? ["sales", text] : [],
                    secondsSinceFirstCall: Int64(mask) * 1_000, readsInFlight: on(1) ? 2 : 0, untrustedRead: on(0),
                    taintedArguments: on(5) ? ["body", text] : [], http: on(4) ? DecisionFacts.HTTP(method: "POST", path: text) : nil)
            }
            records.append(record)
        }
        for record in records {
            let direct = record.canonicalJSON
            #expect(direct == record.json.serializedBytes, "\(record.id): \(String(decoding: direct, as: UTF8.self))")
            #expect(try DecisionRecord(json: try #require(JSONValue(parsing: direct))) == record)
            let encoded = EncodedDecisionRecord(record)
            #expect(Array(encoded.json.utf8) == direct && encoded.leafHash == MerkleTree.leafHash(direct))
        }
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
