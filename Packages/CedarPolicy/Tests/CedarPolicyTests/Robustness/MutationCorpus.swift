import Foundation

/// Seed inputs for the mutation test: files from the unpacked Cedar corpus plus a few hand-written JSON
/// documents (the corpus has no JSON schemas or policy JSON).
struct MutationCorpus {
    var policies: [[UInt8]] = []
    var schemas: [[UInt8]] = []
    var json: [[UInt8]] = []

    /// `<repo root>/../shared`, found from this file's path.
    static let shared: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Robustness
        .deletingLastPathComponent()  // CedarPolicyTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // CedarPolicy
        .deletingLastPathComponent()  // Packages
        .deletingLastPathComponent()  // repo root
        .deletingLastPathComponent()
        .appendingPathComponent("shared")

    struct Missing: Error, CustomStringConvertible { var description: String }

    /// Unpacks the corpus into a fresh temporary folder (removed by `cleanUp`) and picks `perKind` files of each
    /// kind with the seeded generator.
    static func load(perKind: Int, random: inout MutationRandom) throws -> (MutationCorpus, URL) {
        let root = Self.shared.appendingPathComponent("cedar-integration-tests")
        let archive = root.appendingPathComponent("corpus-tests.tar.gz")
        guard FileManager.default.fileExists(atPath: archive.path) else {
            throw Missing(description: "no corpus archive at \(archive.path)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cedar-mutation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-xzf", archive.path, "-C", dir.path]
        try tar.run()
        tar.waitUntilExit()
        guard tar.terminationStatus == 0 else { throw Missing(description: "tar failed to unpack \(archive.path)") }

        var files: [URL] = []
        if let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where !url.hasDirectoryPath { files.append(url) }
        }
        files.sort { $0.path < $1.path }
        func pick(_ suffix: String, excluding other: String? = nil) -> [[UInt8]] {
            let matching = files.filter { url in url.path.hasSuffix(suffix) && !(other.map { url.path.hasSuffix($0) } ?? false) }
            guard !matching.isEmpty else { return [] }
            return (0..<perKind).compactMap { _ in
                (try? Data(contentsOf: matching[random.below(matching.count)])).map { Array($0) }
            }
        }
        var corpus = MutationCorpus()
        corpus.policies = pick(".cedar")
        corpus.schemas = pick(".cedarschema")
        corpus.json = pick(".entities.json") + pick(".json", excluding: ".entities.json")
        // Hand-written seeds for the readers the corpus does not cover.
        corpus.json += [Self.schemaJSON, Self.policySetJSON, Self.requestJSON].map { Array($0.utf8) }
        for name in ["sandbox_a", "sandbox_b"] {
            let sample = root.appendingPathComponent("sample-data/\(name)")
            if let data = try? Data(contentsOf: sample.appendingPathComponent("entities.json")) { corpus.json.append(Array(data)) }
            if let data = try? Data(contentsOf: sample.appendingPathComponent("schema.cedarschema")) { corpus.schemas.append(Array(data)) }
        }
        guard !corpus.policies.isEmpty, !corpus.schemas.isEmpty else {
            throw Missing(description: "the corpus archive held no .cedar or .cedarschema files")
        }
        return (corpus, dir)
    }

    static let schemaJSON = """
        {"App": {"entityTypes": {"User": {"memberOfTypes": ["Group"], "shape": {"type": "Record", "attributes": {
          "age": {"type": "Long"}, "name": {"type": "String", "required": false},
          "ip": {"type": "Extension", "name": "ipaddr"}, "tags": {"type": "Set", "element": {"type": "String"}},
          "boss": {"type": "Entity", "name": "User"}, "prefs": {"type": "Record", "attributes": {"dark": {"type": "Boolean"}}}}}},
          "Group": {}, "Doc": {"shape": {"type": "Record", "attributes": {"owner": {"type": "Entity", "name": "User"}}}, "tags": {"type": "String"}}},
         "actions": {"read": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Doc"],
           "context": {"type": "Record", "attributes": {"when": {"type": "Extension", "name": "datetime"}}}}},
           "write": {"memberOf": [{"id": "read"}], "appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Doc"]}}},
         "commonTypes": {"Name": {"type": "String"}}}}
        """

    static let policySetJSON = """
        {"staticPolicies": {"p0": {"effect": "permit", "principal": {"op": "in", "entity": {"type": "Group", "id": "g"}},
          "action": {"op": "in", "entities": [{"type": "Action", "id": "read"}]}, "resource": {"op": "is", "entity_type": "Doc",
          "in": {"entity": {"type": "Folder", "id": "f"}}}, "conditions": [{"kind": "when", "body": {"&&": {"left":
          {".": {"left": {"Var": "principal"}, "attr": "active"}}, "right": {"like": {"left": {"Value": "abc"},
          "pattern": [{"Literal": "a"}, "Wildcard"]}}}}}, {"kind": "unless", "body": {"isInRange": [{"ip": [{"Value": "10.0.0.1"}]},
          {"ip": [{"Value": "10.0.0.0/8"}]}]}}], "annotations": {"id": "x"}}},
         "templates": {"t0": {"effect": "forbid", "principal": {"op": "==", "slot": "?principal"}, "action": {"op": "All"},
          "resource": {"op": "All"}, "conditions": []}},
         "templateLinks": [{"templateId": "t0", "newId": "l0", "values": {"?principal": {"type": "User", "id": "alice"}}}]}
        """

    static let requestJSON = """
        {"principal": {"type": "User", "id": "alice"}, "action": {"type": "Action", "id": "read"},
         "resource": {"__entity": {"type": "Doc", "id": "d"}}, "context": {"ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}},
         "n": -9223372036854775808, "f": 1.5e300, "s": "\\u00e9\\ud83d\\ude00", "nested": [[[{"a": null}]]]}}
        """
}

/// The mutation test's seeded generator (SplitMix64).
struct MutationRandom {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(self.next().multipliedFullWidth(by: UInt64(n)).high) }
}

/// Byte-level mutations.
enum Mutator {
    static let interesting: [UInt8] = Array("()[]{}\",;:.@?*-+!=<>&|\\/ \n\t0129aZ_".utf8) + [0, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
    static let openers: [String] = ["(", "[", "{\"a\":", "!", "-", "if true then ", "{a:", "[[", "((", "\"__entity\":{"]
    static let tokens: [String] = [
        "permit", "forbid", "when", "unless", "principal", "action", "resource", "context", "in", "is", "has", "like",
        "?principal", "?resource", "::", "\"", "\\u{", "\\", "9223372036854775808", "-9223372036854775808", "1e999",
        "__extn", "__entity", "null", "true", "entity", "type", "namespace", "appliesTo", "Set<", "@id(\"x\")", "/*", "//",
    ]

    /// One to four mutations of `input`; `other` is another seed for splicing.
    static func mutate(_ input: [UInt8], other: [UInt8], random r: inout MutationRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<(1 + r.below(4)) {
            let n = bytes.count
            switch r.below(10) {
            case 0 where n > 0:  // flip a bit
                bytes[r.below(n)] ^= UInt8(1 << r.below(8))
            case 1:  // insert an interesting byte
                bytes.insert(Self.interesting[r.below(Self.interesting.count)], at: r.below(n + 1))
            case 2 where n > 0:  // delete a range
                let start = r.below(n)
                bytes.removeSubrange(start..<min(n, start + 1 + r.below(16)))
            case 3 where n > 0:  // duplicate a chunk somewhere
                let start = r.below(n)
                let chunk = bytes[start..<min(n, start + 1 + r.below(64))]
                bytes.insert(contentsOf: Array(chunk), at: r.below(n + 1))
            case 4:  // deep nesting
                let opener = Array(Self.openers[r.below(Self.openers.count)].utf8)
                let depth = [10, 100, 1_000, 5_000, 50_000][r.below(5)]
                var nest: [UInt8] = []
                nest.reserveCapacity(opener.count * depth)
                for _ in 0..<depth { nest += opener }
                bytes.insert(contentsOf: nest, at: r.below(n + 1))
            case 5 where n > 0:  // truncate
                bytes.removeSubrange(r.below(n)...)
            case 6:  // insert a token
                bytes.insert(contentsOf: Array(Self.tokens[r.below(Self.tokens.count)].utf8), at: r.below(n + 1))
            case 7 where !other.isEmpty:  // splice with another input
                let start = r.below(other.count)
                let chunk = other[start..<min(other.count, start + 1 + r.below(200))]
                bytes.insert(contentsOf: Array(chunk), at: r.below(n + 1))
            case 8 where n > 0:  // overwrite a byte
                bytes[r.below(n)] = Self.interesting[r.below(Self.interesting.count)]
            case 9 where n > 1:  // swap two bytes
                bytes.swapAt(r.below(n), r.below(n))
            default:
                bytes.append(Self.interesting[r.below(Self.interesting.count)])
            }
        }
        return bytes
    }
}
