import Foundation
import Testing

@testable import CedarPolicy

/// Dumps parser output for comparison with the Rust implementation (run by hand:
/// `CEDAR_PARSER_DUMP=/tmp/out.jsonl swift test --filter ParserDifferential`).
@Suite("Parser differential dump")
struct ParserDifferentialTests {
    @Test("dump corpus ASTs as Cedar JSON", .enabled(if: ProcessInfo.processInfo.environment["CEDAR_PARSER_DUMP"] != nil))
    func dump() throws {
        let out = try #require(ProcessInfo.processInfo.environment["CEDAR_PARSER_DUMP"])
        var lines: [String] = []
        let inputs = ProcessInfo.processInfo.environment["CEDAR_PARSER_INPUTS"]
        if let inputs {
            // One input per record, separated by a line holding only "====".
            let text = try String(contentsOfFile: inputs, encoding: .utf8)
            for chunk in text.components(separatedBy: "\n====\n") {
                lines.append(try self.line(name: "", text: chunk))
            }
        } else {
            for file in PolicyCorpus.policyFiles() {
                lines.append(try self.line(name: file.path, text: try String(contentsOf: file, encoding: .utf8)))
            }
        }
        try lines.joined(separator: "\n").write(toFile: out, atomically: true, encoding: .utf8)
    }

    private func line(name: String, text: String) throws -> String {
        var record: [String: Any] = ["file": name]
        if name.isEmpty { record["text"] = text }
        do {
            let policies = try CedarParser.parsePolicies(text)
            record["policies"] = policies.map(ESTDump.policy)
            record["ids"] = policies.map(\.id)
            record["templates"] = policies.map(\.isTemplate)
            record["formatted"] = try CedarFormatter.format(text)
        } catch {
            record["error"] = error.description
        }
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
