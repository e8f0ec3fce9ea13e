import LatchCore
import LatchGateway
import LatchGrants
import Yams

extension ServerConfiguration {
    /// `upstreams`: a list of MCP servers, each
    /// `{name, command, args, env, url, headers, call_timeout, labels, tools: {TOOL: labels}}`
    /// with either `command` (stdio) or `url` (Streamable HTTP); labels are
    /// `{sensitivity, data_domain, egress, side_effects, destination_argument, content, audit_arguments}`.
    static func parseUpstreams(_ value: Node) throws(LatchError) -> [UpstreamConfiguration] {
        guard let list = value.sequence else { throw LatchError(.configuration, "upstreams must be a list of MCP servers") }
        var upstreams: [UpstreamConfiguration] = []
        for item in list {
            let upstream = try Self.parseUpstream(item)
            guard !upstreams.contains(where: { $0.name == upstream.name }) else {
                throw LatchError(.configuration, "upstreams: the name \"\(upstream.name)\" is used twice")
            }
            upstreams.append(upstream)
        }
        return upstreams
    }

    /// Headers an HTTP upstream's configuration cannot set: the MCP transport's own, the
    /// message framing, and trace context (a configured value would override or duplicate them).
    static let mcpTransportHeaders: Set<String> = [
        "accept", "content-type", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "expect",
        "host", "mcp-session-id", "mcp-protocol-version", "mcp-method", "mcp-name", "last-event-id", "traceparent", "tracestate",
    ]

    private static func parseUpstream(_ node: Node) throws(LatchError) -> UpstreamConfiguration {
        guard let mapping = node.mapping else { throw LatchError(.configuration, "each upstream must be a mapping") }
        let known = ["name", "command", "args", "env", "url", "headers", "call_timeout", "labels", "tools"]
        var fields: [String: Node] = [:]
        for (keyNode, field) in mapping {
            guard let key = keyNode.string, known.contains(key) else {
                throw LatchError(.configuration, "upstreams: unknown key \"\(keyNode.string ?? "?")\" (\(known.joined(separator: ", ")))")
            }
            fields[key] = field
        }
        guard let name = fields["name"]?.string, UpstreamConfiguration.isValidName(name) else {
            throw LatchError(.configuration, "upstreams: each needs a name of lowercase letters, digits, - or _ (it prefixes its tools)")
        }
        func context(_ message: String) -> LatchError { LatchError(.configuration, "upstream \(name): \(message)") }
        let transport: UpstreamConfiguration.Transport
        switch (fields["command"]?.string, fields["url"]?.string) {
        case (let command?, nil):
            guard fields["headers"] == nil else { throw context("headers are for url upstreams; a command gets env") }
            transport = .stdio(
                command: command, arguments: try Self.strings(fields["args"], what: "args", context),
                environment: try Self.stringMap(fields["env"], what: "env", context))
        case (nil, let url?):
            guard fields["args"] == nil, fields["env"] == nil else { throw context("args and env are for command upstreams; a url gets headers") }
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else { throw context("url must be http:// or https://") }
            let headers = try Self.stringMap(fields["headers"], what: "headers", context)
            for header in headers.keys {
                guard EgressHeaders.isToken(header) else { throw context("header name \"\(header)\" is not a valid HTTP field name") }
                guard !Self.mcpTransportHeaders.contains(header.lowercased()) else {
                    throw context("header \(header) is set by Latch's MCP client or the HTTP client and cannot be configured")
                }
            }
            transport = .http(url: url, headers: headers)
        default:
            throw context("give either command (a stdio server) or url (Streamable HTTP), not both")
        }
        var upstream = UpstreamConfiguration(name: name, transport: transport)
        if let timeout = fields["call_timeout"] {
            guard let text = timeout.string, let duration = Self.parseDuration(text), duration > .zero else {
                throw context("call_timeout must be a positive duration such as 30s")
            }
            upstream.callTimeout = duration
        }
        if let labels = fields["labels"] { upstream.defaultLabels = try Self.parseLabels(labels, context) }
        if let tools = fields["tools"] {
            guard let pairs = tools.mapping else { throw context("tools must map tool names to labels") }
            for (toolNode, labels) in pairs {
                guard let tool = toolNode.string, !tool.isEmpty else { throw context("tools must map tool names to labels") }
                upstream.tools[tool] = try Self.parseLabels(labels, context)
            }
        }
        return upstream
    }

    static func parseLabels(_ node: Node, _ context: (String) -> LatchError) throws(LatchError) -> ToolLabels {
        try Self.parseLabels(
            node, defaults: ToolLabels(), allowed: ["sensitivity", "data_domain", "egress", "side_effects", "destination_argument", "content", "audit_arguments"],
            context)
    }

    /// Labels over `defaults`; only the `allowed` keys may appear.
    static func parseLabels(
        _ node: Node, defaults: ToolLabels, allowed: [String], _ context: (String) -> LatchError
    ) throws(LatchError) -> ToolLabels {
        guard let mapping = node.mapping else { throw context("labels must be a mapping") }
        var labels = defaults
        for (keyNode, field) in mapping {
            let key = keyNode.string ?? ""
            guard allowed.contains(key) else { throw context("unknown label \"\(key)\" (\(allowed.joined(separator: ", ")))") }
            if key == "destination_argument", field.sequence != nil {
                let names = try Self.strings(field, what: "destination_argument", context)
                guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }), Set(names).count == names.count else {
                    throw context("destination_argument must be an argument name or a list of distinct argument names")
                }
                labels.destinationArguments = names
                continue
            }
            if key == "audit_arguments" {
                let names = try Self.strings(field, what: "audit_arguments", context)
                guard names.allSatisfy({ !$0.isEmpty }) else { throw context("audit_arguments must be a list of argument names") }
                labels.auditArguments = names
                continue
            }
            guard let text = field.string, !text.isEmpty else { throw context("label \(key) must be a string") }
            switch key {
            case "sensitivity":
                guard let value = Sensitivity(rawValue: text) else { throw context("sensitivity must be public, internal, confidential or restricted") }
                labels.sensitivity = value
            case "data_domain": labels.dataDomain = text
            case "egress":
                guard let value = ToolLabels.Egress(rawValue: text) else { throw context("egress must be none, internal or external") }
                labels.egress = value
            case "side_effects":
                guard let value = ToolLabels.SideEffects(rawValue: text) else { throw context("side_effects must be none, write or destructive") }
                labels.sideEffects = value
            case "destination_argument": labels.destinationArgument = text
            case "content":
                guard text == "trusted" || text == "untrusted" else { throw context("content must be trusted or untrusted") }
                labels.untrusted = text == "untrusted"
            default: throw context("unknown label \"\(key)\" (\(allowed.joined(separator: ", ")))")
            }
        }
        return labels
    }

    static func strings(_ node: Node?, what: String, _ context: (String) -> LatchError) throws(LatchError) -> [String] {
        guard let node else { return [] }
        guard let list = node.sequence else { throw context("\(what) must be a list of strings") }
        var values: [String] = []
        for item in list {
            guard let text = item.string else { throw context("\(what) must be a list of strings") }
            values.append(text)
        }
        return values
    }

    static func stringMap(_ node: Node?, what: String, _ context: (String) -> LatchError) throws(LatchError) -> [String: String] {
        guard let node else { return [:] }
        guard let mapping = node.mapping else { throw context("\(what) must map names to strings") }
        var values: [String: String] = [:]
        for (key, value) in mapping {
            guard let key = key.string, !key.isEmpty, let text = value.string else { throw context("\(what) must map names to strings") }
            values[key] = text
        }
        return values
    }
}
