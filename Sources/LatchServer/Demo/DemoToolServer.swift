public import LatchGateway
public import LatchGrants
public import LatchIdentity

/// `latch demo`'s tool server: an MCP server that answers `tools/list` and `tools/call` with the
/// shapes MCP defines (tool definitions with an `inputSchema`; `CallToolResult`s with `content`,
/// `isError` and `_meta`), but in process: Latch calls it directly, with no transport between them.
///
/// Its tools touch nothing real:
/// - `read_file(path)`: one of a few built-in files, the result labelled with the file's
///   sensitivity in `_meta["dev.latch/sensitivity"]` (``MCPGateway/sensitivityMetaKey``), which
///   the gateway takes as the sensitivity of what the task has now read;
/// - `list_files()`: the files and their labels;
/// - `crm_lookup(customer)`: a canned customer record;
/// - `send_email(to, subject, body)`: answers "sent" and sends nothing;
/// - `http_fetch(url)`: answers a canned page and fetches nothing.
///
/// A tool it does not have is a JSON-RPC error (`-32602`); bad arguments are a tool error
/// (`isError: true`), as MCP asks.
public struct DemoToolServer: MCPUpstream {
    /// One of the built-in files.
    public struct File: Sendable {
        public let path: String
        public let sensitivity: Sensitivity
        public let text: String
    }

    public let name: String

    public init(name: String = "demo") {
        self.name = name
    }

    public static let files: [File] = [
        File(path: "public/readme.txt", sensitivity: .public, text: "Acme demo data. Nothing here is confidential.\n"),
        File(path: "internal/roadmap.md", sensitivity: .internal, text: "# Roadmap\n- Q3: ship the gateway\n- Q4: federation\n"),
        File(path: "secret/salaries.csv", sensitivity: .restricted, text: "name,salary\nalice,182000\nbob,171000\n"),
    ]

    static let customers: [String: JSONValue] = [
        "acme": .object([
            "customer": .string("acme"), "tier": .string("gold"), "contact": .string("ops@acme.example"), "open_tickets": .int(2),
            "pipeline_q3": .int(420_000),
        ]),
        "globex": .object([
            "customer": .string("globex"), "tier": .string("silver"), "contact": .string("it@globex.example"), "open_tickets": .int(0),
            "pipeline_q3": .int(95_000),
        ]),
    ]

    /// The labels the demo serves its tools with (what an operator writes under `tools:`).
    public static let labels: [String: ToolLabels] = [
        "read_file": ToolLabels(sensitivity: .internal, dataDomain: "docs"),
        "list_files": ToolLabels(sensitivity: .public, dataDomain: "docs"),
        "crm_lookup": ToolLabels(sensitivity: .confidential, dataDomain: "sales"),
        "send_email": ToolLabels(sensitivity: .public, egress: .external, sideEffects: .write, destinationArgument: "to"),
        "http_fetch": ToolLabels(sensitivity: .public, egress: .external, destinationArgument: "url"),
    ]

    /// The upstream configuration serving this server under ``name`` with ``labels``.
    public var configuration: UpstreamConfiguration {
        UpstreamConfiguration(name: self.name, transport: .inProcess, tools: Self.labels)
    }

    public func listTools() async throws(MCPUpstreamError) -> [JSONValue] { Self.definitions }

    static let definitions: [JSONValue] = [
        Self.tool(
            "read_file", title: "Read a file",
            description: "Reads one of the demo files. The result's _meta carries the file's sensitivity label (dev.latch/sensitivity).",
            properties: ["path": Self.string("Path of the file, e.g. public/readme.txt (list_files lists them).")], readOnly: true),
        Self.tool(
            "list_files", title: "List files", description: "Lists the demo files with their sensitivity labels.", properties: [:], readOnly: true),
        Self.tool(
            "crm_lookup", title: "Look up a customer", description: "Looks up a customer record in the CRM (the demo knows acme and globex).",
            properties: ["customer": Self.string("The customer's name.")], readOnly: true),
        Self.tool(
            "send_email", title: "Send an email", description: "Sends an email (the demo sends nothing).",
            properties: [
                "to": Self.string("The recipient's address."), "subject": Self.string("The subject line."), "body": Self.string("The message text."),
            ], readOnly: false, openWorld: true),
        Self.tool(
            "http_fetch", title: "Fetch a URL", description: "Fetches a web page (the demo fetches nothing and answers a canned page).",
            properties: ["url": Self.string("An http or https URL.")], readOnly: true, openWorld: true),
    ]

    public func callTool(name: String, arguments: JSONValue?, meta: JSONValue?) async throws(MCPUpstreamError) -> JSONValue {
        let arguments = arguments?.objectValue ?? [:]
        guard let definition = Self.definitions.first(where: { $0["name"]?.stringValue == name }) else {
            throw MCPUpstreamError(.rpcError(code: JSONRPC.invalidParams, message: "Unknown tool: \(name)", data: nil), "unknown tool \(name)")
        }
        // Every declared argument is a required string, and nothing else is accepted.
        let declared = definition["inputSchema"]?["properties"]?.objectValue ?? [:]
        for key in declared.keys.sorted() where arguments[key]?.stringValue == nil {
            return Self.toolError("\(name): the argument \(key) (a string) is required")
        }
        if let extra = arguments.keys.sorted().first(where: { declared[$0] == nil }) {
            return Self.toolError("\(name): unknown argument \(extra)")
        }
        let text: (String) -> String = { arguments[$0]?.stringValue ?? "" }
        switch name {
        case "read_file":
            guard let file = Self.files.first(where: { $0.path == text("path") }) else { return Self.toolError("no such file: \(text("path"))") }
            return .object([
                "content": .array([Self.text(file.text)]),
                "_meta": .object([MCPGateway.sensitivityMetaKey: .string(file.sensitivity.rawValue)]),
            ])
        case "list_files":
            let listing = JSONValue.array(
                Self.files.map { .object(["path": .string($0.path), "sensitivity": .string($0.sensitivity.rawValue)]) })
            return .object(["content": .array([Self.text(listing.serialized)])])
        case "crm_lookup":
            guard let record = Self.customers[text("customer").lowercased()] else { return Self.toolError("no customer named \(text("customer"))") }
            return .object(["content": .array([Self.text(record.serialized)])])
        case "send_email":
            return .object(["content": .array([Self.text("sent to \(text("to")) (the demo sends nothing)")])])
        default:  // http_fetch
            let url = text("url")
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                return Self.toolError("http_fetch: the url must be http:// or https://")
            }
            return .object(["content": .array([Self.text("<html><body>canned page for \(url)</body></html>")])])
        }
    }

    public func shutdown() async {}

    // MARK: Building results and definitions

    static func text(_ text: String) -> JSONValue { .object(["type": .string("text"), "text": .string(text)]) }

    static func toolError(_ message: String) -> JSONValue { .object(["content": .array([Self.text(message)]), "isError": .bool(true)]) }

    static func string(_ description: String) -> JSONValue { .object(["type": .string("string"), "description": .string(description)]) }

    static func tool(
        _ name: String, title: String, description: String, properties: [String: JSONValue], readOnly: Bool, openWorld: Bool = false
    ) -> JSONValue {
        .object([
            "name": .string(name), "title": .string(title), "description": .string(description),
            "inputSchema": .object([
                "type": .string("object"), "properties": .object(properties), "required": .array(properties.keys.sorted().map(JSONValue.string)),
                "additionalProperties": .bool(false),
            ]),
            "annotations": .object(["readOnlyHint": .bool(readOnly), "openWorldHint": .bool(openWorld)]),
        ])
    }
}
