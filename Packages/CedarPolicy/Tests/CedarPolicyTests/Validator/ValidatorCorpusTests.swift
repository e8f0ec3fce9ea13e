import Foundation
import Testing
@testable import CedarPolicy

/// The acceptance oracle: for every conformance test, validating its policies against its schema
/// must agree with Cedar's `shouldValidate`.
@Suite("Validator conformance")
struct ValidatorCorpusTests {
    struct Outcome {
        var checked = 0
        var disagreements: [String] = []
    }

    /// Validates one test file (`policies`, `schema`, `shouldValidate`, paths relative to `root`).
    static func run(testFile: URL, root: URL, into outcome: inout Outcome) throws {
        let data = try Data(contentsOf: testFile)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let policiesPath = object["policies"] as? String, let schemaPath = object["schema"] as? String,
              let should = object["shouldValidate"] as? Bool
        else {
            outcome.disagreements.append("\(testFile.lastPathComponent): malformed test file")
            return
        }
        let schemaText = try String(contentsOf: root.appendingPathComponent(schemaPath), encoding: .utf8)
        let policyText = try String(contentsOf: root.appendingPathComponent(policiesPath), encoding: .utf8)
        outcome.checked += 1
        let passed: Bool
        var detail = ""
        do {
            let schema = try Schema(parsingCedar: schemaText)
            let result = Validator(schema: schema).validate(try PolicySet(parsing: policyText))
            passed = result.passed
            detail = result.errors.map(\.description).joined(separator: "; ")
        } catch {
            passed = false
            detail = "\(error)"
        }
        if passed != should {
            outcome.disagreements.append("\(testFile.lastPathComponent): expected \(should), got \(passed) \(detail)")
        }
    }

    @Test("agrees with shouldValidate on every corpus test")
    func corpus() throws {
        let corpus = try #require(PolicyCorpus.corpusDirectory, "corpus-tests.tar.gz must be unpackable from shared/")
        let root = corpus.deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".entities.json") }
            .sorted()
        var outcome = Outcome()
        for name in files {
            try Self.run(testFile: corpus.appendingPathComponent(name), root: root, into: &outcome)
        }
        #expect(outcome.checked == 7809)
        #expect(outcome.disagreements.isEmpty, "\(outcome.disagreements.count) disagreements, e.g. \(outcome.disagreements.prefix(5))")
    }

    @Test("agrees with shouldValidate on the handwritten integration tests")
    func handwritten() throws {
        let root = PolicyCorpus.integrationTestsRoot
        let tests = root.appendingPathComponent("tests")
        var outcome = Outcome()
        let enumerator = try #require(FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil))
        var files: [URL] = []
        for case let url as URL in enumerator where url.pathExtension == "json" { files.append(url) }
        for file in files.sorted(by: { $0.path < $1.path }) {
            try Self.run(testFile: file, root: root, into: &outcome)
        }
        #expect(outcome.checked >= 20)
        #expect(outcome.disagreements.isEmpty, "\(outcome.disagreements)")
    }
}
