import LatchCore
import LatchGateway
import Yams

extension ServerConfiguration {
    /// `http_apis`: a list of plain HTTP APIs agents reach through `/egress/<name>/…`, each
    /// `{name, base_url, headers, call_timeout, labels}`; labels are
    /// `{sensitivity, data_domain, egress, side_effects}` (egress defaults to `external`).
    static func parseHTTPAPIs(_ value: Node) throws(LatchError) -> [HTTPAPIConfiguration] {
        guard let list = value.sequence else { throw LatchError(.configuration, "http_apis must be a list of HTTP APIs") }
        var apis: [HTTPAPIConfiguration] = []
        for item in list {
            let api = try Self.parseHTTPAPI(item)
            guard !apis.contains(where: { $0.name == api.name }) else {
                throw LatchError(.configuration, "http_apis: the name \"\(api.name)\" is used twice")
            }
            apis.append(api)
        }
        return apis
    }

    private static func parseHTTPAPI(_ node: Node) throws(LatchError) -> HTTPAPIConfiguration {
        guard let mapping = node.mapping else { throw LatchError(.configuration, "each HTTP API must be a mapping") }
        let known = ["name", "base_url", "headers", "call_timeout", "labels"]
        var fields: [String: Node] = [:]
        for (keyNode, field) in mapping {
            guard let key = keyNode.string, known.contains(key) else {
                throw LatchError(.configuration, "http_apis: unknown key \"\(keyNode.string ?? "?")\" (\(known.joined(separator: ", ")))")
            }
            fields[key] = field
        }
        guard let name = fields["name"]?.string, UpstreamConfiguration.isValidName(name) else {
            throw LatchError(
                .configuration, "http_apis: each needs a name of lowercase letters, digits, - or _ (it names its tools: <name>.read, .write, .delete)"
            )
        }
        func context(_ message: String) -> LatchError { LatchError(.configuration, "http API \(name): \(message)") }
        guard let url = fields["base_url"]?.string else { throw context("base_url is required") }
        guard let baseURL = Self.validBaseURL(url) else {
            throw context("base_url must be an http:// or https:// URL with a host and no user info, query or fragment")
        }
        var api = HTTPAPIConfiguration(name: name, baseURL: baseURL, headers: try Self.stringMap(fields["headers"], what: "headers", context))
        for header in api.headers.keys {
            guard EgressHeaders.isToken(header) else { throw context("header name \"\(header)\" is not a valid HTTP field name") }
            guard !EgressHeaders.dropped.contains(header.lowercased()) || header.lowercased() == "authorization" || header.lowercased() == "cookie"
            else {
                throw context("header \(header) is set by Latch or the HTTP client and cannot be configured")
            }
        }
        if let timeout = fields["call_timeout"] {
            guard let text = timeout.string, let duration = Self.parseDuration(text), duration > .zero else {
                throw context("call_timeout must be a positive duration such as 30s")
            }
            api.callTimeout = duration
        }
        if let labels = fields["labels"] {
            api.labels = try Self.parseLabels(
                labels, defaults: ToolLabels(egress: .external), allowed: ["sensitivity", "data_domain", "egress", "side_effects", "content"], context)
        }
        return api
    }

    /// The base URL without a trailing `/`, or nil when it is not an http(s) URL with a host and
    /// without user info, query or fragment.
    static func validBaseURL(_ text: String) -> String? {
        guard let schemeEnd = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound]
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = text[schemeEnd.upperBound...]
        guard !rest.contains("?"), !rest.contains("#"), !rest.contains(where: { $0.isWhitespace }) else { return nil }
        let authority = rest.prefix { $0 != "/" }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// Upstreams and HTTP APIs share one tool namespace: no name may be both.
    func checkGatewayNames() throws(LatchError) {
        let upstreams = Set(self.upstreams.map(\.name))
        if let clash = self.httpAPIs.first(where: { upstreams.contains($0.name) }) {
            throw LatchError(.configuration, "http_apis: the name \"\(clash.name)\" is already an upstream's (they share the tool namespace)")
        }
    }
}
