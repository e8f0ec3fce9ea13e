public import LatchCore
import LatchIdentity

/// An RFC 8693 token exchange request, read from the token endpoint's form parameters.
///
/// Parameters (RFC 8693 §2.1 unless noted):
/// - `grant_type` = `urn:ietf:params:oauth:grant-type:token-exchange`;
/// - `subject_token` with `subject_token_type`: a JWT-SVID (`…:token-type:jwt`) or a token of a
///   federated OIDC issuer (`…:token-type:id_token`) for a new task grant, or a grant
///   (`…:token-type:access_token`) to delegate;
/// - `actor_token` with `actor_token_type` `…:token-type:jwt`: the actor's JWT-SVID (delegation);
/// - `audience` (repeatable), `scope` (see ``ScopeSyntax``);
/// - Latch's own, documented in the README: `intent` (what the task is for, required for a new
///   grant), `requested_lifetime` (seconds), `may_act` (space-separated SPIFFE IDs);
/// - `dpop_jkt` (RFC 9449 §10): the thumbprint of the key the issued grant is bound to; optional,
///   and when given it must be the `DPoP` proof's key (the grant is always bound to that key);
/// - `subject_token_dpop` (Latch's, for delegation): a DPoP proof for this request signed with the
///   key the subject grant is bound to, with `ath` over that grant: the parent holder's consent.
///
/// A parameter given twice (other than `audience`) is refused, as RFC 6749 §3.2 says. Text values
/// (intent, scope names, audiences) may not contain control characters.
public struct TokenExchangeRequest: Hashable, Sendable {
    public enum SubjectKind: Hashable, Sendable { case jwtSVID, federatedToken, grant }

    public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    public static let jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    public static let idTokenType = "urn:ietf:params:oauth:token-type:id_token"

    public var subjectToken: Redacted<String>
    public var subjectKind: SubjectKind
    public var actorToken: Redacted<String>?
    public var audience: Set<String>
    public var scope: GrantScope?
    public var intent: String?
    /// Milliseconds.
    public var requestedLifetime: Int64?
    public var mayAct: Set<SPIFFEID>?
    public var keyThumbprint: String?
    /// `subject_token_dpop`: the parent holder's proof over the subject grant (delegation only).
    public var subjectTokenProof: String?

    /// Most values a multi-valued parameter may carry, and the longest intent, bytes.
    public static let maxItems = 256
    public static let maxIntentBytes = 1024

    public init(
        subjectToken: Redacted<String>, subjectKind: SubjectKind, actorToken: Redacted<String>? = nil, audience: Set<String> = [],
        scope: GrantScope? = nil, intent: String? = nil, requestedLifetime: Int64? = nil, mayAct: Set<SPIFFEID>? = nil,
        keyThumbprint: String? = nil, subjectTokenProof: String? = nil
    ) {
        self.subjectToken = subjectToken
        self.subjectKind = subjectKind
        self.actorToken = actorToken
        self.audience = audience
        self.scope = scope
        self.intent = intent
        self.requestedLifetime = requestedLifetime
        self.mayAct = mayAct
        self.keyThumbprint = keyThumbprint
        self.subjectTokenProof = subjectTokenProof
    }

    /// Reads the request from decoded form parameters, in order.
    public init(form: [(name: String, value: String)]) throws(TokenExchangeError) {
        var single: [String: String] = [:]
        var audience: Set<String> = []
        for (name, value) in form {
            if name == "audience" {
                guard Self.isName(value), audience.count < Self.maxItems else {
                    throw TokenExchangeError(.invalidRequest, "an audience must be 1 to 255 bytes without control characters")
                }
                audience.insert(value)
            } else if single.updateValue(value, forKey: name) != nil {
                throw TokenExchangeError(.invalidRequest, "parameter \(name.prefix(64)) is repeated")
            }
        }
        guard let grantType = single["grant_type"] else { throw TokenExchangeError(.invalidRequest, "grant_type is required") }
        guard grantType == Self.grantType else {
            throw TokenExchangeError(.unsupportedGrantType, "only token exchange (\(Self.grantType)) is supported")
        }
        guard let subject = single["subject_token"], !subject.isEmpty else {
            throw TokenExchangeError(.invalidRequest, "subject_token is required")
        }
        switch single["subject_token_type"] {
        case Self.jwtTokenType: self.subjectKind = .jwtSVID
        case Self.idTokenType: self.subjectKind = .federatedToken
        case Self.accessTokenType: self.subjectKind = .grant
        case nil: throw TokenExchangeError(.invalidRequest, "subject_token_type is required")
        default:
            throw TokenExchangeError(
                .invalidRequest, "subject_token_type must be \(Self.jwtTokenType), \(Self.idTokenType) or \(Self.accessTokenType)")
        }
        self.subjectToken = Redacted(subject)
        if let actor = single["actor_token"] {
            guard single["actor_token_type"] == Self.jwtTokenType else {
                throw TokenExchangeError(.invalidRequest, "actor_token_type must be \(Self.jwtTokenType)")
            }
            self.actorToken = Redacted(actor)
        } else {
            guard single["actor_token_type"] == nil else { throw TokenExchangeError(.invalidRequest, "actor_token_type without actor_token") }
            self.actorToken = nil
        }
        self.audience = audience
        self.scope = try single["scope"].map { text throws(TokenExchangeError) in try ScopeSyntax.parse(text) }
        if let intent = single["intent"] {
            guard !intent.isEmpty, intent.utf8.count <= Self.maxIntentBytes, !intent.utf8.contains(where: Self.isControl) else {
                throw TokenExchangeError(.invalidRequest, "intent must be 1 to \(Self.maxIntentBytes) bytes without control characters")
            }
            self.intent = intent
        }
        if let text = single["requested_lifetime"] {
            guard let seconds = Int64(text), seconds > 0, seconds <= 86_400 * 366 else {
                throw TokenExchangeError(.invalidRequest, "requested_lifetime must be a positive number of seconds")
            }
            self.requestedLifetime = seconds * 1000
        }
        if let text = single["may_act"] {
            var ids = Set<SPIFFEID>()
            for item in text.split(separator: " ") {
                guard ids.count < Self.maxItems, let id = try? SPIFFEID(parsing: String(item)) else {
                    throw TokenExchangeError(.invalidRequest, "may_act must be space-separated SPIFFE IDs")
                }
                ids.insert(id)
            }
            self.mayAct = ids
        }
        if let jkt = single["dpop_jkt"] {
            guard jkt.utf8.count == 43, Base64URL.decode(Array(jkt.utf8))?.count == 32 else {
                throw TokenExchangeError(.invalidRequest, "dpop_jkt must be a base64url SHA-256 thumbprint")
            }
            self.keyThumbprint = jkt
        }
        if let proof = single["subject_token_dpop"] {
            guard self.subjectKind == .grant else {
                throw TokenExchangeError(.invalidRequest, "subject_token_dpop is only for delegating a grant")
            }
            self.subjectTokenProof = proof
        }
    }

    /// A name in a scope or an audience: 1 to 255 bytes, no control characters.
    static func isName(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.utf8.count <= 255 && !text.utf8.contains(where: Self.isControl)
    }

    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
}

/// The `scope` parameter: space-separated `tool:NAME`, `domain:NAME`, `destination:NAME` and at
/// most one `sensitivity:LEVEL` (public, internal, confidential, restricted; default public).
/// Anything else is `invalid_scope`. Responses render a scope the same way.
public enum ScopeSyntax {
    public static func parse(_ text: String) throws(TokenExchangeError) -> GrantScope {
        var scope = GrantScope(tools: [], dataDomains: [], destinations: [], maxSensitivity: .public)
        var sensitivitySeen = false
        var count = 0
        for item in text.split(separator: " ") {
            count += 1
            guard count <= TokenExchangeRequest.maxItems * 3 else { throw TokenExchangeError(.invalidScope, "too many scope values") }
            guard let colon = item.firstIndex(of: ":"), colon != item.startIndex, item.index(after: colon) != item.endIndex else {
                throw TokenExchangeError(.invalidScope, "scope value \"\(item.prefix(64))\" is not kind:name")
            }
            let name = String(item[item.index(after: colon)...])
            guard TokenExchangeRequest.isName(name) else {
                throw TokenExchangeError(.invalidScope, "scope names are 1 to 255 bytes without control characters")
            }
            switch item[..<colon] {
            case "tool": scope.tools.insert(name)
            case "domain": scope.dataDomains.insert(name)
            case "destination": scope.destinations.insert(name)
            case "sensitivity":
                guard !sensitivitySeen, let level = Sensitivity(rawValue: name) else {
                    throw TokenExchangeError(.invalidScope, "sensitivity must be given once, one of public, internal, confidential, restricted")
                }
                sensitivitySeen = true
                scope.maxSensitivity = level
            default:
                throw TokenExchangeError(.invalidScope, "unknown scope kind \"\(item[..<colon].prefix(32))\" (tool, domain, destination, sensitivity)")
            }
        }
        return scope
    }

    public static func render(_ scope: GrantScope) -> String {
        (scope.tools.sorted().map { "tool:" + $0 } + scope.dataDomains.sorted().map { "domain:" + $0 }
            + scope.destinations.sorted().map { "destination:" + $0 } + ["sensitivity:" + scope.maxSensitivity.rawValue])
            .joined(separator: " ")
    }
}
