import Foundation
import Testing

@testable import CedarPolicy

@Suite("Formatter corpus")
struct FormatterCorpusTests {
    @Test("formatting every corpus policy file reparses to equal policies and is idempotent")
    func corpusRoundTrips() throws {
        let files = PolicyCorpus.policyFiles()
        try #require(files.count > 7000, "corpus not found next to the repository")
        var failures: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            do {
                let original = try CedarParser.parsePolicies(text)
                let formatted = try CedarFormatter.format(text)
                let reparsed = try CedarParser.parsePolicies(formatted)
                if reparsed != original {
                    failures.append("\(file.lastPathComponent): reparsed policies differ\n\(formatted)")
                    continue
                }
                let again = try CedarFormatter.format(formatted)
                if again != formatted {
                    failures.append("\(file.lastPathComponent): not idempotent\n--- once\n\(formatted)--- twice\n\(again)")
                }
            } catch {
                failures.append("\(file.lastPathComponent): \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) files failed:\n\(failures.prefix(5).joined(separator: "\n"))")
    }
}
