import Foundation

/// One Cedar integration test file (see `shared/cedar-integration-tests/FORMAT.md`), read with
/// Foundation so it does not depend on the engine's own JSON reader.
///
/// Paths are resolved against `base` (the integration tests folder for handwritten tests, the
/// corpus unpack folder for corpus tests). Each request keeps its Cedar request JSON
/// (`principal`, `action`, `resource`, `context`) as compact text, ready for the engine's reader.
struct IntegrationTestFile: Sendable {
    /// One request and its expected response.
    struct RequestCase: Sendable {
        var description: String
        /// `{"principal":…,"action":…,"resource":…,"context":…}`, compact.
        var requestJSON: String
        /// Defaults to true when the file does not say, as in Cedar's own harness.
        var validateRequest: Bool
        /// `"allow"` or `"deny"`.
        var decision: String
        var reason: [String]
        var errors: [String]
    }

    /// The test file itself.
    var url: URL
    /// A short name for messages: the file name, with its folder for handwritten tests.
    var name: String
    var policiesURL: URL
    var entitiesURL: URL
    var schemaURL: URL
    var shouldValidate: Bool
    var requests: [RequestCase]

    init(contentsOf url: URL, base: URL) throws {
        let data = try Data(contentsOf: url)
        guard let top = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SharedTestDataError("\(url.path): not a JSON object")
        }
        func string(_ object: [String: Any], _ key: String) throws -> String {
            guard let value = object[key] as? String else { throw SharedTestDataError("\(url.path): missing string `\(key)`") }
            return value
        }
        self.url = url
        self.name = url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
        self.policiesURL = base.appendingPathComponent(try string(top, "policies"))
        self.entitiesURL = base.appendingPathComponent(try string(top, "entities"))
        self.schemaURL = base.appendingPathComponent(try string(top, "schema"))
        guard let shouldValidate = top["shouldValidate"] as? Bool else {
            throw SharedTestDataError("\(url.path): missing boolean `shouldValidate`")
        }
        self.shouldValidate = shouldValidate
        guard let requests = top["requests"] as? [[String: Any]] else {
            throw SharedTestDataError("\(url.path): missing array `requests`")
        }
        self.requests = try requests.enumerated().map { index, request in
            var cedarRequest: [String: Any] = [:]
            for key in ["principal", "action", "resource", "context"] {
                if let value = request[key] { cedarRequest[key] = value }
            }
            let json = try JSONSerialization.data(withJSONObject: cedarRequest, options: [.sortedKeys, .withoutEscapingSlashes])
            return RequestCase(
                description: (request["description"] as? String) ?? "request \(index)",
                requestJSON: String(decoding: json, as: UTF8.self),
                validateRequest: (request["validateRequest"] as? Bool) ?? true,
                decision: try string(request, "decision").lowercased(),
                reason: ((request["reason"] as? [String]) ?? []).sorted(),
                errors: ((request["errors"] as? [String]) ?? []).sorted()
            )
        }
    }
}
