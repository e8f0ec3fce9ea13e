import CedarPolicy
import Foundation

/// One Cedar integration test file (see `shared/cedar-integration-tests/FORMAT.md`).
///
/// Read with the engine's own JSON reader: Foundation's `JSONSerialization` drops U+FEFF inside
/// strings, and corpus names contain it. Paths are resolved against `base` (the integration tests
/// folder for handwritten tests, the corpus unpack folder for corpus tests). Each request keeps
/// its Cedar request JSON (`principal`, `action`, `resource`, `context`), ready for
/// `Request(json:schema:)`.
struct IntegrationTestFile: Sendable {
    /// One request and its expected response.
    struct RequestCase: Sendable {
        var description: String
        /// `{"principal":…,"action":…,"resource":…,"context":…}`.
        var request: JSONValue
        /// Defaults to true when the file does not say, as in Cedar's own harness.
        var validateRequest: Bool
        /// `"allow"` or `"deny"`.
        var decision: String
        /// Expected determining policy IDs, sorted.
        var reason: [String]
        /// Expected erroring policy IDs, sorted.
        var errors: [String]

        /// The request as compact JSON text, for messages.
        var requestJSON: String { self.request.serialized() }
    }

    /// The test file itself.
    var url: URL
    /// A short name for messages: the file name with its folder.
    var name: String
    var policiesURL: URL
    var entitiesURL: URL
    var schemaURL: URL
    var shouldValidate: Bool
    var requests: [RequestCase]

    init(contentsOf url: URL, base: URL) throws {
        let top = try JSONValue(parsing: [UInt8](Data(contentsOf: url)))
        func string(_ object: JSONValue, _ key: String) throws -> String {
            guard let value = object[key]?.stringValue else { throw SharedTestDataError("\(url.path): missing string `\(key)`") }
            return value
        }
        func ids(_ object: JSONValue, _ key: String) throws -> [String] {
            guard let list = object[key]?.arrayValue else { return [] }
            return try list.map { item in
                guard let id = item.stringValue else { throw SharedTestDataError("\(url.path): `\(key)` holds a non-string") }
                return id
            }.sorted()
        }
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
        self.requests = try requests.enumerated().map { index, request in
            var pairs: [(String, JSONValue)] = []
            for key in ["principal", "action", "resource", "context"] {
                if let value = request[key] { pairs.append((key, value)) }
            }
            guard let object = JSONObject(pairs) else { throw SharedTestDataError("\(url.path): duplicate request keys") }
            return RequestCase(
                description: request["description"]?.stringValue ?? "request \(index)",
                request: .object(object),
                validateRequest: request["validateRequest"]?.boolValue ?? true,
                decision: try string(request, "decision").lowercased(),
                reason: try ids(request, "reason"),
                errors: try ids(request, "errors")
            )
        }
    }
}
