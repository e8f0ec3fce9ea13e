import Foundation

/// The Cedar policy files of the shared integration tests, via ``SharedTestData``.
enum PolicyCorpus {
    /// `<repo root>/../shared/cedar-integration-tests`.
    static var integrationTestsRoot: URL { SharedTestData.integrationTestsDirectory }

    /// The unpacked `corpus-tests` directory, or nil if the archive is unavailable.
    static var corpusDirectory: URL? {
        (try? SharedTestData.corpusRoot())?.appendingPathComponent("corpus-tests")
    }

    /// Every `.cedar` policy file: the corpus plus the hand-written integration tests.
    static func policyFiles() -> [URL] {
        var files: [URL] = []
        if let corpus = corpusDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) {
            files += names.filter { $0.hasSuffix(".cedar") }.sorted().map { corpus.appendingPathComponent($0) }
        }
        let tests = SharedTestData.integrationTestsDirectory.appendingPathComponent("tests")
        if let enumerator = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil) {
            var extra: [URL] = []
            for case let url as URL in enumerator where url.pathExtension == "cedar" { extra.append(url) }
            files += extra.sorted { $0.path < $1.path }
        }
        return files
    }
}
