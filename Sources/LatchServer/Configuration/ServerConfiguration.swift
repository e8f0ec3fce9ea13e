public import LatchCore
public import LatchIdentity
public import LatchGateway
public import LatchGuard

/// Settings of `latch serve`, with their defaults. The YAML file (`latch serve --config FILE`)
/// uses the snake_case names in ``ServerConfiguration/keys``; flags override the file.
/// Every key is documented in the README's "Configuration" table.
public struct ServerConfiguration: Sendable, Hashable {
    /// `trust_domain`: the SPIFFE trust domain Latch issues for (default `latch.local`).
    public var trustDomain: TrustDomain
    /// `data_dir`: where the SQLite store, the default KEK file and the default socket live.
    public var dataDirectory: String = "latch-data"
    /// `listen`: `host:port` of the HTTP endpoints (bundle, JWKS, OIDC discovery); port 0 picks one.
    public var listen: String = "127.0.0.1:8080"
    /// `workload_api_socket`: path of the Workload API socket (default `<data_dir>/public/workload.sock`:
    /// the data directory is mode 0711 and `public/` 0755, so any local user can reach the socket
    /// while the store and key files stay 0600).
    public var workloadAPISocket: String?
    /// `workload_api_socket_mode`: octal file mode of the socket (default `0777`: any local
    /// process may connect; attestation decides what it gets).
    public var workloadAPISocketMode: UInt32 = 0o777
    /// `issuer`: the OIDC issuer URL in the discovery document (default `http://<bound listen address>`).
    public var issuer: String?
    /// `database_url`: `sqlite` (default: `<data_dir>/latch.sqlite`) or a `postgres://` URL
    /// (several nodes share one database).
    public var databaseURL: String = "sqlite"
    /// `kek_file`: file holding the 32-byte key-encryption key (raw or base64). When unset,
    /// `LATCH_KEK` (base64) is used; when neither is set, `<data_dir>/kek` is created (mode 0600).
    public var kekFile: String?
    /// `x509_ca_lifetime`: lifetime of each X.509 CA key and certificate (default 7 days).
    public var x509CALifetime: Duration = .seconds(7 * 86_400)
    /// `jwt_key_lifetime`: lifetime of each JWT-SVID signing key (default 1 day).
    public var jwtKeyLifetime: Duration = .seconds(86_400)
    /// `rotation_check_interval`: how often due rotation steps run (default 10 s).
    public var rotationCheckInterval: Duration = .seconds(10)
    /// `entry_poll_interval`: how often the store's entry revision is checked (default 1 s): the
    /// longest a `latch entry` change takes to reach the Workload API.
    public var entryPollInterval: Duration = .seconds(1)
    /// `bundle_refresh_hint`: `spiffe_refresh_hint` of the published bundle (default 300 s).
    public var bundleRefreshHint: Duration = .seconds(300)
    /// `jwt_clock_skew`: leeway when validating JWT-SVID times (default 30 s).
    public var jwtClockSkew: Duration = .seconds(30)
    /// `require_executable`: refuse callers whose executable cannot be read and hashed (default false:
    /// the `unix:path` and `unix:sha256` selectors are then omitted).
    public var requireExecutable: Bool = false
    /// `log_level`: trace, debug, info (default), notice, warning, error, critical.
    public var logLevel: String = "info"
    /// `policies`: a Cedar policy file, or a directory whose `*.cedar` files are read, deciding
    /// the token endpoint's questions (see the README's "Grant policies"). None: every grant
    /// request is denied.
    public var policies: String?
    /// `grant_lifetime`: lifetime of a task grant when the request names none (default 5 minutes).
    public var grantLifetime: Duration = .seconds(300)
    /// `grant_max_lifetime`: the longest lifetime a grant request may ask for (default 1 hour).
    public var grantMaxLifetime: Duration = .seconds(3600)
    /// `grant_max_depth`: the longest delegation chain below a task grant (default 3).
    public var grantMaxDepth: Int = 3
    /// `grant_audiences`: the audiences grants may be issued for, space-separated (default
    /// `latch-gateway`); a request naming none gets all of them.
    public var grantAudiences: Set<String> = ["latch-gateway"]
    /// `federation`: OIDC issuers whose tokens are accepted as `subject_token` (type
    /// `urn:ietf:params:oauth:token-type:id_token`); each maps to selectors `oidc:<alias>:sub:<sub>`
    /// (and mapped claims) that registration entries match, as the Workload API's do.
    public var federation: [FederatedIssuer] = []
    /// `grant_sweep_interval`: how often expired grants, tasks and revocations are deleted (default 1 minute).
    public var grantSweepInterval: Duration = .seconds(60)

    /// `upstreams`: the MCP servers the gateway (`/mcp`) serves tools from, each with the labels
    /// of its tools (see the README's "Gateway"). None: the gateway lists no tools.
    public var upstreams: [UpstreamConfiguration] = []
    /// `http_apis`: plain HTTP APIs agents reach through `/egress/<name>/…` (see the README's
    /// "HTTP egress"), with the credential headers Latch adds and their labels. Their names and
    /// the upstreams' must differ.
    public var httpAPIs: [HTTPAPIConfiguration] = []
    /// `upstream_refresh_interval`: how often upstreams' tools are listed again and their
    /// (and the HTTP APIs') credentials rendered again from the secret store (default 30 s).
    public var upstreamRefreshInterval: Duration = .seconds(30)
    /// `tool_pinning`: how a tool never pinned is treated (default `tofu`: its first definition
    /// is accepted on first use; `strict`: it is served only once an operator accepts it). Either
    /// way a definition that differs from the accepted one disables the tool until accepted.
    public var toolPinning: ToolPinningMode = .tofu
    /// `guard_rules`: the runtime guard's rules over each task's and agent's history (see the
    /// README's "The guard"); none: no guard.
    public var guardRules: [GuardRule] = []
    /// `guard_webhook`: an http(s) URL each kill switch is POSTed to as JSON (see "The guard"); none: the log and records only.
    public var guardWebhook: String?
    /// `approval_ttl`: how long a held call's approval lives (default 10 minutes): undecided, or
    /// approved and not retried, by then the call is denied (`approval_timeout`).
    public var approvalTTL: Duration = .seconds(600)
    /// `approval_max_pending`: the most approvals one task may have pending at once (default 5);
    /// beyond it a held call is denied `approval_rate_limit` and no approval is created.
    public var approvalMaxPending: Int = 5
    /// `gateway_audience`: the audience a grant must name to be used at `/mcp` (default `latch-gateway`).
    public var gatewayAudience: String = "latch-gateway"
    /// `gateway_keep_prompts`: keep the text of prompts agents attach to calls in the records,
    /// sealed under the ledger's value key (default false: only their keyed hash).
    public var gatewayKeepPrompts: Bool = false
    /// `gateway_keep_arguments`: keep each call's arguments in its decision record, sealed under
    /// the ledger's value key (default false: only keyed hashes), so `latch policy replay` can
    /// re-decide policies that read arguments.
    public var gatewayKeepArguments: Bool = false

    public init(trustDomain: TrustDomain) {
        self.trustDomain = trustDomain
    }

    /// The socket path, defaulted from the data directory.
    public var resolvedWorkloadAPISocket: String { self.workloadAPISocket ?? self.dataDirectory + "/public/workload.sock" }
    /// The issuer, defaulted from the listen address.
    public var resolvedIssuer: String { self.issuer ?? "http://" + self.listen }

    /// `listen` split into host and port.
    public func listenAddress() throws(LatchError) -> (host: String, port: Int) {
        guard let colon = self.listen.lastIndex(of: ":"), let port = Int(self.listen[self.listen.index(after: colon)...]),
            (0...65_535).contains(port), colon != self.listen.startIndex
        else {
            throw LatchError(.configuration, "listen must be host:port, e.g. 127.0.0.1:8080 (got \"\(self.listen)\")")
        }
        var host = String(self.listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
