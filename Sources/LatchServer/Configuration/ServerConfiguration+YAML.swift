import Foundation
public import LatchCore
import LatchGateway
import LatchIdentity
import Yams

extension ServerConfiguration {
    /// The keys a configuration file may contain; any other key is an error (a misspelled setting
    /// must not silently fall back to its default).
    public static let keys: [String] = [
        "trust_domain", "data_dir", "listen", "workload_api_socket", "workload_api_socket_mode", "issuer", "database_url",
        "kek_file", "x509_ca_lifetime", "jwt_key_lifetime", "rotation_check_interval", "entry_poll_interval",
        "bundle_refresh_hint", "jwt_clock_skew", "require_executable", "log_level", "policies", "grant_lifetime",
        "grant_max_lifetime", "grant_max_depth", "grant_audiences", "grant_sweep_interval", "federation",
        "upstreams", "upstream_refresh_interval", "tool_pinning", "gateway_audience", "gateway_keep_prompts", "gateway_keep_arguments", "http_apis", "guard_rules", "guard_webhook",
        "approval_ttl", "approval_max_pending",
    ]

    /// Largest configuration file read, bytes.
    public static let maxFileSize = 64 * 1024

    /// Parses a YAML mapping of the keys above. Errors name the key and what was expected.
    public init(yaml text: String) throws(LatchError) {
        guard text.utf8.count <= Self.maxFileSize else { throw LatchError(.configuration, "configuration larger than 64 KiB") }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw LatchError(.configuration, "configuration is not valid YAML: \(error)")
        }
        self = .defaults
        guard let node else { return }
        guard let mapping = node.mapping else { throw LatchError(.configuration, "configuration must be a YAML mapping of settings") }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw LatchError(.configuration, "configuration keys must be strings") }
            try self.apply(key: key, value: value)
        }
        try self.checkGatewayNames()
    }

    /// Every setting at its default (trust domain `latch.local`).
    public static var defaults: ServerConfiguration {
        ServerConfiguration(trustDomain: TrustDomain(unchecked: "latch.local"))
    }

    private mutating func apply(key: String, value: Node) throws(LatchError) {
        func string() throws(LatchError) -> String {
            guard let s = value.scalar?.string, value.scalar != nil else { throw LatchError(.configuration, "\(key) must be a string") }
            return s
        }
        func duration() throws(LatchError) -> Duration {
            let text = try string()
            guard let d = Self.parseDuration(text), d > .zero else {
                throw LatchError(.configuration, "\(key) must be a positive duration such as 500ms, 10s, 5m, 2h or 7d (got \"\(text)\")")
            }
            return d
        }
        switch key {
        case "trust_domain":
            let text = try string()
            do { self.trustDomain = try TrustDomain(parsing: text) } catch {
                throw LatchError(.configuration, "trust_domain: \(error.message)")
            }
        case "data_dir": self.dataDirectory = try string()
        case "listen": self.listen = try string()
        case "workload_api_socket": self.workloadAPISocket = try string()
        case "workload_api_socket_mode":
            let text = try string()
            guard let mode = UInt32(text.hasPrefix("0o") ? String(text.dropFirst(2)) : text, radix: 8), mode <= 0o777 else {
                throw LatchError(.configuration, "workload_api_socket_mode must be an octal mode such as 0777 (got \"\(text)\")")
            }
            self.workloadAPISocketMode = mode
        case "issuer": self.issuer = try string()
        case "database_url": self.databaseURL = try string()
        case "kek_file": self.kekFile = try string()
        case "x509_ca_lifetime": self.x509CALifetime = try duration()
        case "jwt_key_lifetime": self.jwtKeyLifetime = try duration()
        case "rotation_check_interval": self.rotationCheckInterval = try duration()
        case "entry_poll_interval": self.entryPollInterval = try duration()
        case "bundle_refresh_hint": self.bundleRefreshHint = try duration()
        case "jwt_clock_skew": self.jwtClockSkew = try duration()
        case "require_executable":
            switch try string() {
            case "true": self.requireExecutable = true
            case "false": self.requireExecutable = false
            default: throw LatchError(.configuration, "require_executable must be true or false")
            }
        case "policies": self.policies = try string()
        case "grant_lifetime": self.grantLifetime = try duration()
        case "grant_max_lifetime": self.grantMaxLifetime = try duration()
        case "grant_max_depth":
            guard let depth = Int(try string()), (0...16).contains(depth) else {
                throw LatchError(.configuration, "grant_max_depth must be a whole number from 0 to 16")
            }
            self.grantMaxDepth = depth
        case "grant_audiences":
            let audiences = Set(try string().split(separator: " ").map(String.init))
            guard !audiences.isEmpty else { throw LatchError(.configuration, "grant_audiences must name at least one audience") }
            self.grantAudiences = audiences
        case "grant_sweep_interval": self.grantSweepInterval = try duration()
        case "federation": self.federation = try Self.parseFederation(value)
        case "upstreams": self.upstreams = try Self.parseUpstreams(value)
        case "http_apis": self.httpAPIs = try Self.parseHTTPAPIs(value)
        case "guard_rules": self.guardRules = try Self.parseGuardRules(value)
        case "guard_webhook":
            let url = try string()
            guard let parsed = URLComponents(string: url), parsed.scheme == "https" || parsed.scheme == "http", parsed.host?.isEmpty == false,
                parsed.user == nil, parsed.password == nil
            else { throw LatchError(.configuration, "guard_webhook must be an http:// or https:// URL without user info") }
            self.guardWebhook = url
        case "approval_ttl": self.approvalTTL = try duration()
        case "approval_max_pending":
            guard let count = Int(try string()), (1...1_000).contains(count) else {
                throw LatchError(.configuration, "approval_max_pending must be a whole number from 1 to 1000")
            }
            self.approvalMaxPending = count
        case "upstream_refresh_interval": self.upstreamRefreshInterval = try duration()
        case "tool_pinning":
            guard let mode = ToolPinningMode(rawValue: try string()) else { throw LatchError(.configuration, "tool_pinning must be tofu or strict") }
            self.toolPinning = mode
        case "gateway_audience": self.gatewayAudience = try string()
        case "gateway_keep_prompts":
            switch try string() {
            case "true": self.gatewayKeepPrompts = true
            case "false": self.gatewayKeepPrompts = false
            default: throw LatchError(.configuration, "gateway_keep_prompts must be true or false")
            }
        case "gateway_keep_arguments":
            switch try string() {
            case "true": self.gatewayKeepArguments = true
            case "false": self.gatewayKeepArguments = false
            default: throw LatchError(.configuration, "gateway_keep_arguments must be true or false")
            }
        case "log_level":
            let level = try string()
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw LatchError(.configuration, "log_level must be one of trace, debug, info, notice, warning, error, critical")
            }
            self.logLevel = level
        default:
            throw LatchError(.configuration, "unknown configuration key \"\(key)\"; known keys: \(Self.keys.joined(separator: ", "))")
        }
    }

    /// `federation`: a list of `{alias, issuer, audience, jwks_url, claims: {CLAIM_PATH: NAME}}`.
    private static func parseFederation(_ value: Node) throws(LatchError) -> [FederatedIssuer] {
        guard let list = value.sequence else { throw LatchError(.configuration, "federation must be a list of issuers") }
        var issuers: [FederatedIssuer] = []
        for item in list {
            guard let mapping = item.mapping else { throw LatchError(.configuration, "each federation entry must be a mapping") }
            var fields: [String: String] = [:]
            var claims: [String: String] = [:]
            for (keyNode, field) in mapping {
                guard let key = keyNode.string else { throw LatchError(.configuration, "federation keys must be strings") }
                if key == "claims" {
                    guard let pairs = field.mapping else { throw LatchError(.configuration, "federation claims must map claim paths to names") }
                    for (claim, name) in pairs {
                        guard let claim = claim.string, let name = name.string, !name.isEmpty else {
                            throw LatchError(.configuration, "federation claims must map claim paths to names")
                        }
                        claims[claim] = name
                    }
                } else if ["alias", "issuer", "audience", "jwks_url"].contains(key), let text = field.string, !text.isEmpty {
                    fields[key] = text
                } else {
                    throw LatchError(.configuration, "federation: unknown key or empty value \"\(key)\" (alias, issuer, audience, jwks_url, claims)")
                }
            }
            guard let alias = fields["alias"], let issuer = fields["issuer"], let audience = fields["audience"], let jwks = fields["jwks_url"] else {
                throw LatchError(.configuration, "federation: each issuer needs alias, issuer, audience and jwks_url")
            }
            guard alias.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), alias.lowercased() == alias else {
                throw LatchError(.configuration, "federation: alias must be lowercase letters, digits, - or _")
            }
            guard jwks.hasPrefix("https://") || jwks.hasPrefix("http://127.0.0.1") || jwks.hasPrefix("http://localhost") else {
                throw LatchError(.configuration, "federation: jwks_url must be https (plain http only to localhost)")
            }
            guard !issuers.contains(where: { $0.alias == alias || $0.issuerURL == issuer }) else {
                throw LatchError(.configuration, "federation: alias and issuer must be unique")
            }
            issuers.append(FederatedIssuer(alias: alias, issuerURL: issuer, audience: audience, jwksURL: jwks, claimMappings: claims))
        }
        return issuers
    }

    /// `500ms`, `10s`, `5m`, `2h`, `7d`, or a bare number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            guard let n = Int64(number), n >= 0, n <= Int64.max / milliseconds / 1_000 else { return nil }
            return .milliseconds(n * milliseconds)
        }
        guard let n = Int64(text), n >= 0, n <= Int64.max / 1_000_000 else { return nil }
        return .seconds(n)
    }
}
