import CedarPolicy
import Foundation

/// One Cedar integration test file (see `shared/cedar-integration-tests/FORMAT.md`).
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
        guard let top = try JSONValue(parsing: [UInt8](data)).objectValue else {
            throw SharedTestDataError("\(url.path): not a JSON object")
        }
        func string(_ object: JSONObject, _ key: String) throws -> String {
            guard let value = object[key]?.stringValue else { throw SharedTestDataError("\(url.path): missing string `\(key)`") }
            return value
        }
        func strings(_ value: JSONValue?) -> [String] { (value?.arrayValue ?? []).compactMap(\.stringValue) }
        self.url = url
        self.name = url.deletingLastPathComponent().lastPathComponent + "/" + url.lastPathComponent
        self.policiesURL = base.appendingPathComponent(try string(top, "policies"))
        self.entitiesURL = base.appendingPathComponent(try string(top, "entities"))
        self.schemaURL = base.appendingPathComponent(try string(top, "schema"))
        guard let shouldValidate = top["shouldValidate"]?.boolValue else {
            throw SharedTestDataError("\(url.path): missing boolean `shouldValidate`")
        }
        self.shouldValidate = shouldValidate
        guard let requests = top["requests"]?.arrayValue else {
            throw SharedTestDataError("\(url.path): missing array `requests`")
        }
        self.requests = try requests.enumerated().map { index, value in
            guard let request = value.objectValue else { throw SharedTestDataError("\(url.path): request \(index) is not an object") }
            // The request fields are passed on as written (re-serialized by our writer, which keeps
            // every scalar: Foundation's JSON round trip altered keys holding U+FEFF).
            var cedarRequest = JSONObject()
            for key in ["principal", "action", "resource", "context"] {
                if let field = request[key] { _ = cedarRequest.insert(key, field) }
            }
            return RequestCase(
                description: request["description"]?.stringValue ?? "request \(index)",
                requestJSON: JSONValue.object(cedarRequest).serialized(),
                validateRequest: request["validateRequest"]?.boolValue ?? true,
                decision: try string(request, "decision").lowercased(),
                reason: strings(request["reason"]).sorted(),
                errors: strings(request["errors"]).sorted()
            )
        }
    }
}
