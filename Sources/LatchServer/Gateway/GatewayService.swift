import LatchCore
import LatchGateway
import LatchIdentity
import Logging
import ServiceLifecycle

/// Keeps the gateway's tool catalog current: lists every upstream's tools at start (retrying
/// the ones that fail every `retryInterval`), then again every `refreshInterval`; stops the
/// upstreams on shutdown.
///
/// A tool is served only when the configuration labels it (by name, or the upstream's default
/// labels); unlabelled tools are logged once and left out.
final class GatewayService: Service {
    let gateway: MCPGateway
    let upstreams: [(configuration: UpstreamConfiguration, upstream: any MCPUpstream)]
    let retryInterval: Duration
    let refreshInterval: Duration
    let logger: Logger

    init(
        gateway: MCPGateway, upstreams: [(configuration: UpstreamConfiguration, upstream: any MCPUpstream)], retryInterval: Duration = .seconds(2),
        refreshInterval: Duration = .seconds(60), logger: Logger
    ) {
        self.gateway = gateway
        self.upstreams = upstreams
        self.retryInterval = retryInterval
        self.refreshInterval = refreshInterval
        self.logger = logger
    }

    func run() async throws {
        var listed: [String: [GatewayTool]] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let complete = await self.refresh(into: &listed)
            _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: complete ? self.refreshInterval : self.retryInterval) }
        }
        for (_, upstream) in self.upstreams { await upstream.shutdown() }
    }

    /// Lists every upstream's tools and installs the catalog; true when every upstream answered
    /// (one that fails keeps the tools it listed last).
    @discardableResult
    func refresh(into listed: inout [String: [GatewayTool]]) async -> Bool {
        var complete = true
        for (configuration, upstream) in self.upstreams {
            do {
                let definitions = try await upstream.listTools()
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
                if listed[configuration.name]?.map(\.digest) != tools.map(\.digest) {
                    self.logger.info(
                        "upstream tools listed",
                        metadata: ["upstream": "\(configuration.name)", "served": "\(tools.count)", "unlabelled": "\(unlabelled.sorted())"])
                }
                listed[configuration.name] = tools
            } catch {
                complete = false
                self.logger.warning("upstream tools could not be listed", metadata: ["upstream": "\(configuration.name)", "error": "\(error.reason)"])
            }
        }
        let catalog = ToolCatalog(self.upstreams.flatMap { listed[$0.configuration.name] ?? [] })
        self.gateway.update { $0.catalog = catalog }
        return complete
    }
}
