import Foundation

/// Where the shared test data lives, and the conformance corpus unpacked once per test process.
///
/// The repository expects `shared/` beside its root (`<repo root>/../shared`), as on a developer
/// machine and in CI; `LATCH_SHARED_DIR` overrides that. The corpus tarball is unpacked to a
/// fresh temporary directory on first use (unique per process, removed at exit), so tests that
/// run in parallel in one process share one copy and concurrent test processes never collide.
enum SharedTestData {
    /// The repository root, found from this file's path.
    static let repositoryRoot: URL = {
        // <root>/Packages/CedarPolicy/Tests/CedarPolicyTests/Support/SharedTestData.swift
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<6 { url.deleteLastPathComponent() }
        return url.standardizedFileURL
    }()

    /// `<repo root>/../shared`, or `$LATCH_SHARED_DIR` when set.
    static let sharedDirectory: URL = {
        if let override = ProcessInfo.processInfo.environment["LATCH_SHARED_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override).standardizedFileURL
        }
        return SharedTestData.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared").standardizedFileURL
    }()

    /// The Cedar integration tests folder; test files name their inputs relative to it.
    static var integrationTestsDirectory: URL { self.sharedDirectory.appendingPathComponent("cedar-integration-tests") }

    /// The handwritten integration tests (`tests/*/*.json`), sorted by path.
    static func handwrittenTestFiles() throws -> [URL] {
        let root = self.integrationTestsDirectory.appendingPathComponent("tests")
        return try self.jsonFiles(under: root, recursive: true)
    }

    /// The folder that holds the unpacked `corpus-tests/`: test files inside name their inputs
    /// relative to it (`corpus-tests/<hash>.cedar`). Unpacked on first call; later calls reuse it.
    static func corpusRoot() throws -> URL {
        try self.unpackedCorpus.get()
    }

    /// The corpus test files (`corpus-tests/<hash>.json`, not the `.entities.json` inputs), sorted.
    static func corpusTestFiles() throws -> [URL] {
        let folder = try self.corpusRoot().appendingPathComponent("corpus-tests")
        return try self.jsonFiles(under: folder, recursive: false).filter { !$0.lastPathComponent.hasSuffix(".entities.json") }
    }

    /// Reads a UTF-8 text file.
    static func text(at url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    // MARK: - Unpacking

    private static let unpackedCorpus: Result<URL, any Error> = Result {
        let tarball = SharedTestData.integrationTestsDirectory.appendingPathComponent("corpus-tests.tar.gz")
        guard FileManager.default.fileExists(atPath: tarball.path) else {
            throw SharedTestDataError("corpus tarball not found at \(tarball.path); shared/ must be beside the repository")
        }
        let target = FileManager.default.temporaryDirectory
            .appendingPathComponent("latch-corpus-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        CorpusCleanup.register(target.path)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xzf", tarball.path, "-C", target.path]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else {
            throw SharedTestDataError("tar exited \(tar.terminationStatus) unpacking \(tarball.path)")
        }
        return target
    }

    private static func jsonFiles(under root: URL, recursive: Bool) throws -> [URL] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SharedTestDataError("\(root.path) not found; shared/ must be beside the repository (or set LATCH_SHARED_DIR)")
        }
        var out: [URL] = []
        if recursive {
            guard let walker = fm.enumerator(atPath: root.path) else {
                throw SharedTestDataError("cannot list \(root.path)")
            }
            while let relative = walker.nextObject() as? String {
                if relative.hasSuffix(".json") { out.append(root.appendingPathComponent(relative)) }
            }
        } else {
            for name in try fm.contentsOfDirectory(atPath: root.path) where name.hasSuffix(".json") {
                out.append(root.appendingPathComponent(name))
            }
        }
        return out.sorted { $0.path < $1.path }
    }
}

/// A failure to find or unpack shared test data.
struct SharedTestDataError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Removes the unpacked corpus when the test process exits.
private enum CorpusCleanup {
    nonisolated(unsafe) static var path: String?

    static func register(_ path: String) {
        self.path = path
        atexit {
            if let path = CorpusCleanup.path { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
