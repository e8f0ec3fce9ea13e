import Foundation

/// Runs `scripts/cedar_oracle.py` (the Rust engine through cedarpy) on a batch of generated cases.
///
/// Python is `$LATCH_PYTHON`, else `<repo>/.venv/bin/python` (what `.ci/run` creates, with cedarpy==4.12.2).
/// When neither exists the oracle is unavailable and the differential test fails rather than skips.
enum CedarOracle {
    /// One answer as both engines report it: decision and sorted policy IDs.
    struct Answer: Equatable, CustomStringConvertible {
        var decision: String
        var reason: [String]
        var errors: [String]
        var messages: [String] = []

        static func == (lhs: Answer, rhs: Answer) -> Bool {
            lhs.decision == rhs.decision && lhs.reason == rhs.reason && lhs.errors == rhs.errors
        }

        var description: String {
            var out = "decision=\(self.decision) reason=\(self.reason) errors=\(self.errors)"
            if !self.messages.isEmpty { out += "\n      messages: " + self.messages.joined(separator: "\n                ") }
            return out
        }
    }

    /// Strict validation of a case's policies against its schema: the IDs of the policies with errors.
    struct Validation: Equatable {
        var policies: [String]
        var messages: [String] = []
        static func == (lhs: Validation, rhs: Validation) -> Bool { lhs.policies == rhs.policies }
    }

    /// What an engine made of a whole case: a failure at some stage, or one answer per request (and, with a
    /// schema, the validation result).
    enum Outcome {
        case failed(stage: String, message: String)
        case answered([Answer], validation: Validation?)
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Differential
        .deletingLastPathComponent()  // CedarPolicyTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // CedarPolicy
        .deletingLastPathComponent()  // Packages
        .deletingLastPathComponent()

    static var script: URL { Self.repoRoot.appendingPathComponent("scripts/cedar_oracle.py") }

    /// The Python that has cedarpy, or an error saying how to provide one.
    static func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["LATCH_PYTHON"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Unavailable(description: "LATCH_PYTHON=\(explicit) is not an executable file")
            }
            return explicit
        }
        let venv = Self.repoRoot.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        throw Unavailable(
            description: """
                The differential test needs the Rust Cedar engine through Python's cedarpy, and found no Python: \
                set LATCH_PYTHON to a python with cedarpy==4.12.2 installed, or create \(venv) \
                (python3 -m venv .venv && .venv/bin/pip install cedarpy==4.12.2, as .ci/run does).
                """)
    }

    /// Runs the oracle on the cases (as the oracle's JSON input objects) and returns its outcome for each.
    static func run(_ caseJSON: [String]) throws -> [Outcome] {
        let python = try Self.python()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cedar-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.json")
        let output = dir.appendingPathComponent("out.json")
        let errors = dir.appendingPathComponent("err.txt")
        try Data(("{\"cases\":[" + caseJSON.joined(separator: ",\n") + "]}").utf8).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.script.path]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw Unavailable(description: "cedar_oracle.py failed (status \(process.terminationStatus)) with \(python):\n\(stderr)")
        }
        let data = try Data(contentsOf: output)
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let results = root["results"] as? [[String: Any]], results.count == caseJSON.count
        else {
            throw Unavailable(description: "cedar_oracle.py printed something unexpected: \(String(decoding: data.prefix(500), as: UTF8.self))")
        }
        return results.map { result in
            guard result["ok"] as? Bool == true else {
                return .failed(stage: result["stage"] as? String ?? "?", message: result["error"] as? String ?? "")
            }
            let responses = result["responses"] as? [[String: Any]] ?? []
            let validation = (result["validation"] as? [String: Any]).map { v in
                Validation(policies: v["policies"] as? [String] ?? [], messages: v["messages"] as? [String] ?? [])
            }
            return .answered(
                responses.map { r in
                    Answer(
                        decision: r["decision"] as? String ?? "?", reason: r["reason"] as? [String] ?? [],
                        errors: r["errors"] as? [String] ?? [], messages: r["messages"] as? [String] ?? [])
                }, validation: validation)
        }
    }
}
