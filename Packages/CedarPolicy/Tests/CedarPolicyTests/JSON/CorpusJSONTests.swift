import Foundation
import Testing

@testable import CedarPolicy

/// The conformance corpus, unpacked once per test process into a unique temporary folder.
enum JSONCorpus {
    static let sharedDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/cedar-integration-tests")

    /// The folder holding `corpus-tests/`, or nil if the tarball is missing.
    static let root: URL? = {
        let tarball = sharedDir.appendingPathComponent("corpus-tests.tar.gz")
        guard FileManager.default.fileExists(atPath: tarball.path) else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("latch-json-corpus-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let tar = Process()
            tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tar.arguments = ["tar", "xzf", tarball.path, "-C", dir.path]
            try tar.run()
            tar.waitUntilExit()
            guard tar.terminationStatus == 0 else { return nil }
        } catch {
            return nil
        }
        return dir
    }()

    static func files(withSuffix suffix: String) -> [URL] {
        guard let root else { return [] }
        let dir = root.appendingPathComponent("corpus-tests")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { dir.appendingPathComponent($0) }
    }

    static func json(_ url: URL) throws -> JSONValue {
        try JSONValue(parsing: Array(try Data(contentsOf: url)))
    }
}

@Suite("JSON readers on the conformance corpus")
struct CorpusJSONTests {
    @Test("the corpus tarball is found next to the repository")
    func corpusPresent() {
        #expect(JSONCorpus.root != nil, "expected \(JSONCorpus.sharedDir.path)/corpus-tests.tar.gz")
    }

    @Test("every corpus entities file reads without a schema and writes back to equal entities")
    func entitiesFiles() throws {
        let files = JSONCorpus.files(withSuffix: ".entities.json")
        #expect(files.count > 7_000)
        var entityCount = 0
        for url in files {
            let json = try JSONCorpus.json(url)
            do {
                let entities = try Entities(json: json)
                entityCount += entities.count
                let again = try Entities(json: try JSONValue(parsing: entities.json.serialized()))
                #expect(again.entities == entities.entities, "\(url.lastPathComponent)")
            } catch {
                Issue.record("\(url.lastPathComponent): \(error)")
            }
        }
        #expect(entityCount > 10_000)
    }

    /// A corpus request entry without its bookkeeping (`description`, `decision`, `reason`, …),
    /// which `Request(json:)` rejects as unknown members.
    static func requestPart(_ entry: JSONValue) -> JSONValue {
        guard case .object(let o) = entry else { return entry }
        return JSONObject(o.filter { Request.jsonMembers.contains($0.0) }).map(JSONValue.object) ?? entry
    }

    @Test("every corpus request reads without a schema")
    func requests() throws {
        var count = 0
        for url in JSONCorpus.files(withSuffix: ".json") where !url.lastPathComponent.hasSuffix(".entities.json") {
            guard case .array(let requests)? = try JSONCorpus.json(url)["requests"] else { continue }
            for r in requests {
                do {
                    let request = try Request(json: Self.requestPart(r))
                    count += 1
                    #expect(try Request(json: JSONValue(parsing: request.json.serialized())) == request)
                } catch {
                    Issue.record("\(url.lastPathComponent): \(error)")
                }
            }
        }
        #expect(count > 50_000)
    }

    @Test("with their schemas, every corpus entities file conforms and every request marked validateRequest validates")
    func withSchemas() throws {
        guard let root = JSONCorpus.root else { return }
        var tests = 0, validated = 0
        for url in JSONCorpus.files(withSuffix: ".json") where !url.lastPathComponent.hasSuffix(".entities.json") {
            let test = try JSONCorpus.json(url)
            guard case .string(let schemaPath)? = test["schema"], case .string(let entitiesPath)? = test["entities"],
                case .array(let requests)? = test["requests"]
            else { continue }
            let name = url.lastPathComponent
            tests += 1
            do {
                let schemaText = try String(contentsOf: root.appendingPathComponent(schemaPath), encoding: .utf8)
                let schema = try Schema(parsingCedar: schemaText)
                let entities = try Entities(json: try JSONCorpus.json(root.appendingPathComponent(entitiesPath)), schema: schema)
                for action in schema.actionEntities() {
                    #expect(entities[action.uid] != nil, "\(name): action \(action.uid) added")
                }
                for r in requests where r["validateRequest"] == .bool(true) {
                    _ = try Request(json: Self.requestPart(r), schema: schema)
                    validated += 1
                }
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
        #expect(tests > 7_000)
        #expect(validated > 40_000)
    }
}
