import Foundation
import Testing

@testable import CedarPolicy

/// Randomly changed policy JSON with the Rust engine's verdict, from `Fixtures/generate_est_mutations.py`.
enum ESTMutations {
    static let all: [JSONValue] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/est-mutations.json")
        guard let data = try? Data(contentsOf: url), case .array(let items)? = try? JSONValue(parsing: Array(data)) else { return [] }
        return items
    }()
}

@Suite("Policy JSON against the Rust engine's verdicts on mutated input")
struct PolicyJSONMutationTests {
    @Test("we accept exactly the mutated policy JSON Cedar accepts, and read the policy Cedar prints")
    func verdicts() throws {
        #expect(ESTMutations.all.count > 1_000)
        var disagreements: [String] = []
        var accepted = 0, rejected = 0, comparedText = 0
        for (i, c) in ESTMutations.all.enumerated() {
            guard case .string(let section)? = c["section"], let policy = c["policy"] else { continue }
            var sections = JSONObject()
            sections.insert("p", policy)
            let set: JSONValue = [
                "staticPolicies": section == "staticPolicies" ? .object(sections) : [:] as JSONValue,
                "templates": section == "templates" ? .object(sections) : [:] as JSONValue, "templateLinks": [],
            ]
            let cedarAccepts = c["accepted"] == .bool(true)
            let ours = Result { () throws(CedarError) -> PolicySet in try PolicySet(json: set) }
            switch (ours, cedarAccepts) {
            case (.success(let ps), true):
                accepted += 1
                // Cedar prints static policies as text; our reading must equal our parse of that text.
                if case .string(let text)? = c["text"], !text.isEmpty, section == "staticPolicies" {
                    do {
                        let parsed = try CedarParser.parsePolicies(text).map(ESTFixtures.normalized)
                        let fromJSON = (ps.staticPolicies + ps.templates).map(ESTFixtures.normalized).map { p -> Policy in
                            var p = p
                            p.id = "policy0"
                            return p
                        }
                        comparedText += 1
                        if parsed != fromJSON {
                            disagreements.append("#\(i): JSON reads differently from Cedar's text \(text.prefix(300))")
                        }
                    } catch {
                        disagreements.append("#\(i): our parser rejects Cedar's text: \(error) \(text.prefix(300))")
                    }
                }
            case (.failure(let e), true): disagreements.append("#\(i): Cedar accepts, we reject: \(e) \(policy.serialized().prefix(300))")
            case (.success, false): disagreements.append("#\(i): Cedar rejects, we accept \(policy.serialized().prefix(400))")
            case (.failure, false): rejected += 1
            }
        }
        #expect(accepted > 300 && rejected > 300 && comparedText > 200)
        for d in disagreements.prefix(20) { Issue.record(Comment(rawValue: d)) }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements")
    }
}
