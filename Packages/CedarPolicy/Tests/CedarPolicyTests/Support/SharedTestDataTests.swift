import Foundation
import Testing

@Suite("Shared test data")
struct SharedTestDataTests {
    @Test("the handwritten integration tests are found beside the repository")
    func handwrittenFound() throws {
        let files = try SharedTestData.handwrittenTestFiles()
        #expect(files.count >= 20)
        let first = try IntegrationTestFile(contentsOf: files[0], base: SharedTestData.integrationTestsDirectory)
        #expect(FileManager.default.fileExists(atPath: first.policiesURL.path))
        #expect(FileManager.default.fileExists(atPath: first.schemaURL.path))
        #expect(!first.requests.isEmpty)
    }

    @Test("the corpus unpacks once to a private folder with thousands of tests")
    func corpusUnpacks() throws {
        let root = try SharedTestData.corpusRoot()
        #expect(try SharedTestData.corpusRoot() == root)
        #expect(root.path.hasPrefix(FileManager.default.temporaryDirectory.path))
        let files = try SharedTestData.corpusTestFiles()
        #expect(files.count > 7_000)
        let test = try IntegrationTestFile(contentsOf: files[0], base: root)
        #expect(FileManager.default.fileExists(atPath: test.entitiesURL.path))
        #expect(test.requests.allSatisfy { $0.decision == "allow" || $0.decision == "deny" })
    }
}
