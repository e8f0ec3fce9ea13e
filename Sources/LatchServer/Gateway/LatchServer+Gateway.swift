import CedarPolicy
import LatchAudit
import LatchCore
import LatchGateway
import LatchGrants
import LatchGuard
import LatchIdentity
import LatchSecrets
import Logging

extension LatchServer {
    /// The MCP gateway over the configured upstreams (and the HTTP egress over the configured APIs), deciding with `policies` (none configured:
    /// every call is denied), recording every decision in the store, and the service that keeps
    /// its upstreams and catalog current.
    static func gateway(
        configuration: ServerConfiguration, policies: PolicySet, authority: GrantAuthority, store: any LatchStore, state: IdentityState,
        issuer: @escaping @Sendable () -> String, kek: KeyEncryptionKey, ledgerKey: LedgerKey, inProcess: [any MCPUpstream], clock: any WallClock,
        metrics: GatewayMetrics, logger: Logger, onFirstRound: @escaping @Sendable () -> Void
    ) throws -> GatewayService {
        var settings = MCPGatewaySettings()
        settings.audience = configuration.gatewayAudience
        settings.keepPrompts = configuration.gatewayKeepPrompts
        settings.keepArguments = configuration.gatewayKeepArguments
        settings.guardRules = configuration.guardRules.isEmpty ? nil : try GuardRules(configuration.guardRules)
        settings.guardAlerts = configuration.guardWebhook.map { WebhookGuardAlerts(url: $0, logger: logger) }
        settings.approvals = store
        settings.approvalTTL = max(1, configuration.approvalTTL.components.seconds * 1000 + configuration.approvalTTL.components.attoseconds / 1_000_000_000_000_000)
        settings.approvalMaxPending = configuration.approvalMaxPending
        let policy = configuration.policies == nil ? nil : ToolCallPolicy(policies: policies, attributes: Self.entryAttributes(state))
        let gateway = MCPGateway(
            settings: settings, baseURL: issuer, authority: authority,
            snapshot: MCPGateway.Snapshot(catalog: ToolCatalog([]), upstreams: [:], policy: policy),
            recorder: StoreDecisionRecorder(repository: store, ledgerKey: ledgerKey), valueKey: ledgerKey.valueKey, clock: clock, logger: logger, metrics: metrics)
        if settings.guardRules?.screensDelegations == true { authority.setDelegationGuard(gateway) }
        return try GatewayService(
            gateway: gateway, upstreams: configuration.upstreams, inProcess: inProcess, httpAPIs: configuration.httpAPIs,
            secrets: SecretStore(repository: store, kek: kek, clock: clock), pins: store, pinning: configuration.toolPinning, clock: clock,
            refreshInterval: configuration.upstreamRefreshInterval, logger: logger, onFirstRound: onFirstRound)
    }
}
