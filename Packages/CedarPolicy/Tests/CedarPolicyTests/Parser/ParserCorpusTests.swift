import Foundation
import Testing

@testable import CedarPolicy

@Suite("Parser corpus")
struct ParserCorpusTests {
    @Test("every policy file in the Cedar integration corpus parses")
    func corpusParses() throws {
        let files = PolicyCorpus.policyFiles()
        try #require(files.count > 7000, "corpus not found next to the repository")
        var failures: [String] = []
        var policies = 0
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            do {
                policies += try CedarParser.parsePolicies(text).count
            } catch {
                failures.append("\(file.lastPathComponent): \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) files failed: \(failures.prefix(10).joined(separator: "\n"))")
        #expect(policies > files.count)
    }
}
