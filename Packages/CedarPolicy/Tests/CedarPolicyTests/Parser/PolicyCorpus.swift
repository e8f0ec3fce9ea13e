import Foundation

/// Locates the shared Cedar integration tests and unpacks the corpus once per test process.
enum PolicyCorpus {
    /// `<repo root>/../shared/cedar-integration-tests`, found from this file's path.
    static let integrationTestsRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // .../Packages/CedarPolicy/Tests/CedarPolicyTests/Parser/PolicyCorpus.swift -> repo root
        for _ in 0..<6 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent("shared/cedar-integration-tests")
    }()

    /// The unpacked `corpus-tests` directory, or nil if the archive is unavailable.
    static let corpusDirectory: URL? = {
        let archive = integrationTestsRoot.appendingPathComponent("corpus-tests.tar.gz")
        guard FileManager.default.fileExists(atPath: archive.path) else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cedar-parser-corpus-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tar.arguments = ["tar", "-xzf", archive.path, "-C", dir.path]
            try tar.run()
            tar.waitUntilExit()
            guard tar.terminationStatus == 0 else { return nil }
        } catch {
            return nil
        }
        let nested = dir.appendingPathComponent("corpus-tests")
        return FileManager.default.fileExists(atPath: nested.path) ? nested : dir
    }()

    /// Every `.cedar` policy file: the corpus plus the hand-written integration tests.
    static func policyFiles() -> [URL] {
        var files: [URL] = []
        if let corpus = corpusDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) {
            files += names.filter { $0.hasSuffix(".cedar") }.sorted().map { corpus.appendingPathComponent($0) }
        }
        let tests = integrationTestsRoot.appendingPathComponent("tests")
        if let enumerator = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil) {
            var extra: [URL] = []
            for case let url as URL in enumerator where url.pathExtension == "cedar" { extra.append(url) }
            files += extra.sorted { $0.path < $1.path }
        }
        return files
    }
}
