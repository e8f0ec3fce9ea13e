import AsyncHTTPClient
import LatchCore
import LatchGateway
import LatchIdentity
import LatchSecrets
import Logging
import NIOPosix
import ServiceLifecycle

/// Keeps the gateway's upstreams and tool catalog current. Every round (each `refreshInterval`,
/// or each `retryInterval` while an upstream has not answered) it, for each upstream:
/// 1. renders its credential templates (`${secret:NAME}` in `env` or `headers`) from the sealed
///    secret store: a secret that is missing marks the upstream's credential unavailable (its
///    calls are denied) until it is back; a changed value restarts the upstream with it;
/// 2. lists its tools, keeps the labelled ones (a tool the configuration does not label is
///    logged and left out);
/// 3. checks them against their pinned definitions (``ToolPinning``, `tool_pinning`): a tool is
///    served only while the upstream lists its accepted definition. A changed definition is
///    recorded as pending, logged with both digests, and the tool disabled (not listed; its calls
///    denied `tool_definition_changed`) until an operator accepts it with `latch tool accept`,
///    which the next round picks up. If the pins cannot be read or written, the upstream serves
///    only what the last successful check served (``unchecked(_:served:)``).
///
/// Pins are read and written here only, never on the call path.
///
/// and, for each HTTP API (`http_apis`), renders its credential headers the same way: a missing
/// secret, or a value that is not a valid header (CR, LF), marks its credential unavailable.
///
/// An upstream whose transport is `inProcess` is one of the MCP servers handed to ``init`` (none
/// of them has a credential); it is listed like any other.
///
/// On shutdown it stops every upstream (after the HTTP server has drained: the service group
/// stops services in reverse order).
actor GatewayService: Service {
    /// One configured upstream and what runs for it.
    struct Slot {
        let configuration: UpstreamConfiguration
        /// Credential-bearing values (environment variables or headers) by name.
        let templates: [String: SecretTemplate]
        var rendered: [String: Redacted<String>]?
        var client: (any MCPUpstream)?
        /// The tools served: listed, labelled, and their definition the accepted one.
        var tools: [GatewayTool] = []
        /// The tools listed and labelled whose definition is not the accepted one.
        var disabled: [DisabledTool] = []
    }

    /// One configured HTTP API's credential headers.
    struct APISlot {
        let name: String
        let templates: [String: SecretTemplate]
    }

    let gateway: MCPGateway
    /// The HTTP egress over the configured HTTP APIs (it shares the gateway's policy, facts and records).
    let egress: HTTPEgress
    let secrets: any SecretResolver
    let pins: any ToolPinRepository
    let pinning: ToolPinningMode
    let clock: any WallClock
    let retryInterval: Duration
    let refreshInterval: Duration
    let logger: Logger
    /// Called once, after the first round over every upstream (listed or not).
    let onFirstRound: @Sendable () -> Void
    private let httpClient: HTTPClient
    private let inProcess: [String: any MCPUpstream]
    private var slots: [Slot]
    private let apiSlots: [APISlot]
    /// The HTTP APIs whose credential was rendered last round (to log changes only).
    private var readyAPIs: Set<String> = []

    /// Parses every upstream's and HTTP API's credential templates (a syntax error fails the start)
    /// and pairs each `inProcess` upstream with its server in `inProcess` (by name; one missing, or
    /// a server no upstream names, fails the start).
    init(
        gateway: MCPGateway, upstreams: [UpstreamConfiguration], inProcess: [any MCPUpstream] = [], httpAPIs: [HTTPAPIConfiguration] = [],
        secrets: any SecretResolver, pins: any ToolPinRepository, pinning: ToolPinningMode = .tofu, clock: any WallClock,
        retryInterval: Duration = .seconds(2), refreshInterval: Duration, logger: Logger, onFirstRound: @escaping @Sendable () -> Void = {}
    ) throws(LatchError) {
        self.gateway = gateway
        self.secrets = secrets
        self.pins = pins
        self.pinning = pinning
        self.clock = clock
        self.retryInterval = retryInterval
        self.refreshInterval = refreshInterval
        self.logger = logger
        self.onFirstRound = onFirstRound
        var servers: [String: any MCPUpstream] = [:]
        for server in inProcess {
            guard upstreams.contains(where: { $0.name == server.name && $0.transport == .inProcess }), servers[server.name] == nil else {
                throw LatchError(.configuration, "the in-process upstream \(server.name) is not configured once as inProcess")
            }
            servers[server.name] = server
        }
        self.inProcess = servers
        var apiSlots: [APISlot] = []
        for api in httpAPIs {
            apiSlots.append(APISlot(name: api.name, templates: try Self.parseTemplates(api.headers, owner: "http API \(api.name)")))
        }
        self.apiSlots = apiSlots
        var slots: [Slot] = []
        for configuration in upstreams {
            let values: [String: String]
            switch configuration.transport {
            case .stdio(_, _, let environment): values = environment
            case .http(_, let headers): values = headers
            case .inProcess:
                guard servers[configuration.name] != nil else {
                    throw LatchError(.configuration, "upstream \(configuration.name): no in-process server of that name is running")
                }
                values = [:]
            }
            slots.append(Slot(configuration: configuration, templates: try Self.parseTemplates(values, owner: "upstream \(configuration.name)")))
        }
        self.slots = slots
        // Last: a client made before a failed check would be released without its shutdown.
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: HTTPMCPUpstream.clientConfiguration())
        self.httpClient = client
        self.egress = HTTPEgress(gateway: gateway, transport: AsyncHTTPAPITransport(client: client), apis: httpAPIs)
    }

    private static func parseTemplates(_ values: [String: String], owner: String) throws(LatchError) -> [String: SecretTemplate] {
        var templates: [String: SecretTemplate] = [:]
        for (name, value) in values {
            do { templates[name] = try SecretTemplate(parsing: value) } catch {
                throw LatchError(.configuration, "\(owner): \(name): \(error.message)")
            }
        }
        return templates
    }

    func run() async throws {
        var first = true
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let complete = await self.refresh()
            if first {
                first = false
                self.onFirstRound()
            }
            _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: complete ? self.refreshInterval : self.retryInterval) }
        }
        for slot in self.slots { await slot.client?.shutdown() }
        try? await self.httpClient.shutdown()
    }

    /// One round over every upstream; true when every one answered.
    @discardableResult
    func refresh() async -> Bool {
        var complete = true
        var problems: [String: String] = [:]
        for index in self.slots.indices {
            let name = self.slots[index].configuration.name
            do {
                let rendered = try await self.render(self.slots[index].templates)
                if self.slots[index].client == nil || self.slots[index].rendered != rendered {
                    if let old = self.slots[index].client {
                        self.logger.notice("upstream credential changed: restarting it", metadata: [LogKey.upstreamName: "\(name)"])
                        await old.shutdown()
                    }
                    self.slots[index].client = self.makeUpstream(self.slots[index].configuration, values: rendered)
                    self.slots[index].rendered = rendered
                }
            } catch {
                // Never the value: template errors name the secret, not what it holds.
                problems[name] = "\(error)"
                complete = false
                self.logger.warning("upstream credential unavailable: its calls are denied", metadata: [LogKey.upstreamName: "\(name)", "error": "\(error)"])
            }
            guard let client = self.slots[index].client else { continue }
            let listed: [GatewayTool]
            do {
                listed = self.labelledTools(self.slots[index].configuration, definitions: try await client.listTools())
            } catch {
                complete = false
                self.logger.warning("upstream tools could not be listed", metadata: [LogKey.upstreamName: "\(name)", "error": "\(error.reason)"])
                continue
            }
            let checked: (served: [GatewayTool], disabled: [DisabledTool])
            do {
                checked = try await self.checkPins(listed)
            } catch {
                complete = false
                self.logger.warning(
                    "upstream tool pins could not be checked: serving only the definitions the last check served",
                    metadata: [LogKey.upstreamName: "\(name)", "error": "\(error)"])
                checked = Self.unchecked(listed, served: self.slots[index].tools)
            }
            if checked.served.map(\.digest) != self.slots[index].tools.map(\.digest) {
                self.logger.info("upstream tools listed", metadata: [LogKey.upstreamName: "\(name)", "served": "\(checked.served.map(\.name))"])
            }
            self.logNewlyDisabled(checked.disabled, before: self.slots[index].disabled)
            self.slots[index].tools = checked.served
            self.slots[index].disabled = checked.disabled
        }
        let catalog = ToolCatalog(self.slots.flatMap(\.tools))
        var disabled: [String: DisabledTool] = [:]
        for tool in self.slots.flatMap(\.disabled) where catalog[tool.tool.name] == nil && disabled[tool.tool.name] == nil {
            disabled[tool.tool.name] = tool
        }
        var clients: [String: any MCPUpstream] = [:]
        for slot in self.slots { clients[slot.configuration.name] = slot.client }
        self.gateway.update { snapshot in
            snapshot.catalog = catalog
            snapshot.upstreams = clients
            snapshot.credentialProblems = problems
            snapshot.disabledTools = disabled
        }
        return await self.refreshAPIs() && complete
    }

    /// Renders every HTTP API's credential headers; true when all could be.
    private func refreshAPIs() async -> Bool {
        var complete = true
        var rendered: [String: Result<[(name: String, value: Redacted<String>)], RenderProblem>] = [:]
        for slot in self.apiSlots {
            do {
                let values = try await self.render(slot.templates)
                guard values.allSatisfy({ EgressHeaders.isValid(name: $0.key, value: $0.value.unredacted) }) else {
                    throw RenderProblem(description: "a rendered header value holds CR, LF or NUL")
                }
                rendered[slot.name] = .success(values.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) })
                if self.readyAPIs.insert(slot.name).inserted {
                    self.logger.info(
                        "HTTP API credential ready", metadata: [LogKey.upstreamName: "\(slot.name)", "headers": "\(values.keys.sorted())"])
                }
            } catch {
                self.readyAPIs.remove(slot.name)
                complete = false
                let problem = RenderProblem(description: "\(error)")
                rendered[slot.name] = .failure(problem)
                self.logger.warning(
                    "HTTP API credential unavailable: its calls are denied", metadata: [LogKey.upstreamName: "\(slot.name)", LogKey.error: "\(problem)"])
            }
        }
        self.egress.update { apis in
            for (name, outcome) in rendered {
                switch outcome {
                case .success(let headers):
                    apis[name]?.credential = headers
                    apis[name]?.credentialProblem = nil
                case .failure(let problem):
                    apis[name]?.credential = nil
                    apis[name]?.credentialProblem = problem.description
                }
            }
        }
        return complete
    }

    /// Decides one upstream's labelled tools against their pins and writes the pins the decision
    /// asks for. A first pin another node stored first (rare: nodes listing at once) leaves the
    /// tool unserved until the next round decides against that pin.
    private func checkPins(_ listed: [GatewayTool]) async throws -> (served: [GatewayTool], disabled: [DisabledTool]) {
        guard let upstream = listed.first?.upstream else { return ([], []) }
        let pins = try await self.pins.toolPins(upstream: upstream)
        let decision = ToolPinning.decide(listed: listed, pins: pins, mode: self.pinning, now: self.clock.now().milliseconds)
        var lost = Set<String>()
        for change in decision.changes {
            switch change {
            case .pinFirst(let pin):
                if try await self.pins.pinFirstDefinition(pin) {
                    self.logger.info(
                        pin.status == .accepted
                            ? "tool definition pinned on first use" : "tool definition pinned, pending acceptance (tool_pinning: strict)",
                        metadata: [
                            LogKey.upstreamName: "\(pin.upstream)", LogKey.toolName: "\(pin.name)",
                            "digest": "\(ToolPinning.shortDigest(pin.digest))",
                        ])
                } else {
                    lost.insert(pin.name)
                }
            case .recordPending(let pin):
                _ = try await self.pins.savePendingToolPin(pin)
            case .dropPending(let upstream, let tool, let digest):
                if try await self.pins.deletePendingToolPin(upstream: upstream, tool: tool, digest: digest) {
                    self.logger.notice(
                        "upstream lists the accepted tool definition again: its pending definition is dropped",
                        metadata: [
                            LogKey.upstreamName: "\(upstream)", LogKey.toolName: "\(upstream).\(tool)",
                            "digest.pending": "\(ToolPinning.shortDigest(digest))",
                        ])
                }
            }
        }
        guard !lost.isEmpty else { return (decision.served, decision.disabled) }
        let late = decision.served.filter { lost.contains($0.name) }.map { tool in
            DisabledTool(
                tool: tool,
                reason: DenialReason(
                    DenialReason.toolDefinitionNotAccepted, "the definition of \(tool.name) is being pinned; it is checked again at the next refresh"),
                acceptedDigest: nil)
        }
        return (decision.served.filter { !lost.contains($0.name) }, decision.disabled + late)
    }

    /// What an upstream may serve while its pins cannot be read: of what it lists now, only the
    /// definitions the last successful check served (the same digest); a changed or new one is
    /// disabled until the pins can be checked again. Never more than before: fail closed.
    static func unchecked(_ listed: [GatewayTool], served: [GatewayTool]) -> (served: [GatewayTool], disabled: [DisabledTool]) {
        var accepted: [String: String] = [:]
        for tool in served { accepted[tool.name] = tool.digest }
        var result: (served: [GatewayTool], disabled: [DisabledTool]) = ([], [])
        for tool in listed {
            if accepted[tool.name] == tool.digest {
                result.served.append(tool)
            } else if let digest = accepted[tool.name] {
                result.disabled.append(
                    DisabledTool(
                        tool: tool,
                        reason: DenialReason(
                            DenialReason.toolDefinitionChanged, "the definition of \(tool.name) changed and the pins cannot be checked now"),
                        acceptedDigest: digest))
            } else {
                result.disabled.append(
                    DisabledTool(
                        tool: tool,
                        reason: DenialReason(
                            DenialReason.toolDefinitionNotAccepted, "\(tool.name) is new and the pins cannot be checked now"),
                        acceptedDigest: nil))
            }
        }
        return result
    }

    /// Logs each tool disabled now that was not disabled with the same definition before: a
    /// warning for a changed definition (with both digests' first 12 hex digits), a notice for
    /// one never accepted.
    private func logNewlyDisabled(_ disabled: [DisabledTool], before: [DisabledTool]) {
        let known = Set(before.map { $0.tool.name + " " + $0.tool.digest })
        for tool in disabled where !known.contains(tool.tool.name + " " + tool.tool.digest) {
            var metadata: Logger.Metadata = [
                LogKey.upstreamName: "\(tool.tool.upstream)", LogKey.toolName: "\(tool.tool.name)",
                "digest.listed": "\(ToolPinning.shortDigest(tool.tool.digest))",
            ]
            if let accepted = tool.acceptedDigest {
                metadata["digest.accepted"] = "\(ToolPinning.shortDigest(accepted))"
                self.logger.warning(
                    "upstream tool definition changed: the tool is disabled until an operator accepts it (latch tool accept)", metadata: metadata)
            } else {
                self.logger.notice(
                    "upstream tool definition not accepted: the tool is disabled until an operator accepts it (latch tool accept)",
                    metadata: metadata)
            }
        }
    }

    /// Why a credential could not be rendered: names secrets, never values.
    struct RenderProblem: Error, CustomStringConvertible {
        let description: String
    }

    private func render(_ templates: [String: SecretTemplate]) async throws -> [String: Redacted<String>] {
        var values: [String: Redacted<String>] = [:]
        for (name, template) in templates { values[name] = try await template.render(using: self.secrets) }
        return values
    }

    /// The labelled tools of one upstream's list.
    private func labelledTools(_ configuration: UpstreamConfiguration, definitions: [JSONValue]) -> [GatewayTool] {
        var tools: [GatewayTool] = []
        var unlabelled: [String] = []
        for definition in definitions {
            guard let name = definition["name"]?.stringValue else { continue }
            guard let labels = configuration.labels(for: name) else {
                unlabelled.append(name)
                continue
            }
            if let tool = GatewayTool(upstream: configuration.name, definition: definition, labels: labels) { tools.append(tool) }
        }
        if !unlabelled.isEmpty {
            self.logger.debug("unlabelled tools not served", metadata: [LogKey.upstreamName: "\(configuration.name)", "tools": "\(unlabelled.sorted())"])
        }
        return tools
    }

    private func makeUpstream(_ configuration: UpstreamConfiguration, values: [String: Redacted<String>]) -> (any MCPUpstream)? {
        switch configuration.transport {
        case .stdio(let command, let arguments, _):
            return StdioMCPUpstream(
                configuration: StdioMCPUpstream.Configuration(
                    name: configuration.name, command: command, arguments: arguments, environment: values, requestTimeout: configuration.callTimeout),
                logger: self.logger)
        case .http(let url, _):
            return HTTPMCPUpstream(
                configuration: HTTPMCPUpstream.Configuration(name: configuration.name, url: url, headers: values, requestTimeout: configuration.callTimeout),
                client: self.httpClient, logger: self.logger)
        case .inProcess:
            return self.inProcess[configuration.name]
        }
    }
}
