/// One plain HTTP API in the configuration (`http_apis`) that agents reach through Latch at
/// `/egress/<name>/…`: where it is, the credential headers Latch adds, and its labels.
///
/// Invariants (checked where the configuration is read): `name` is a valid upstream name and no
/// upstream or other API has it (they share the tool namespace); `baseURL` is `http://` or
/// `https://`, without user info, query, fragment or a trailing `/`; header names are tokens.
public struct HTTPAPIConfiguration: Hashable, Sendable {
    public var name: String
    /// What a request's path after `/egress/<name>` is appended to, e.g. `https://api.example.com/v2`.
    public var baseURL: String
    /// Headers added to every forwarded request (replacing any the agent sent under the same
    /// name); values may hold `${secret:NAME}` templates.
    public var headers: [String: String]
    /// How long one request may take, its whole response included (default 30 s).
    public var callTimeout: Duration
    /// The API's labels. Defaults differ from an MCP tool's: `egress` is `external`; and
    /// `side_effects` is a floor under what each verb class implies (see ``labels(for:)``).
    public var labels: ToolLabels

    public init(
        name: String, baseURL: String, headers: [String: String] = [:], callTimeout: Duration = .seconds(30),
        labels: ToolLabels = ToolLabels(egress: .external)
    ) {
        self.name = name
        self.baseURL = baseURL
        self.headers = headers
        self.callTimeout = callTimeout
        self.labels = labels
    }

    /// The host requests go to (lowercase, no port): every call's destination.
    public var host: String {
        var rest = Substring(self.baseURL)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        let authority = rest.prefix { $0 != "/" }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]).lowercased() }
        return String(authority.prefix { $0 != ":" }).lowercased()
    }

    /// The tool a request of `verb` calls: `<name>.<verb>` (`weather.read`).
    public func toolName(_ verb: HTTPVerbClass) -> String { self.name + "." + verb.rawValue }

    /// The labels of calls of `verb`: the API's, with side effects at least what the verb implies
    /// (a read none, a write `write`, a delete `destructive`). A configured `side_effects` can
    /// raise them (an old API whose GETs change things) but never lower them: a DELETE stays
    /// destructive whatever was copied into the labels.
    public func labels(for verb: HTTPVerbClass) -> ToolLabels {
        var labels = self.labels
        labels.destinationArgument = nil
        if verb.sideEffects.rank > labels.sideEffects.rank { labels.sideEffects = verb.sideEffects }
        return labels
    }
}

/// What an HTTP method does, for decisions: a grant names HTTP APIs as tools by class
/// (`tool:weather.read`), policies see the class as the tool's name and its side effects.
public enum HTTPVerbClass: String, Hashable, Sendable, CaseIterable {
    /// `GET`, `HEAD`.
    case read
    /// `POST`, `PUT`, `PATCH`.
    case write
    /// `DELETE`.
    case delete

    /// The class of `method` (case-sensitive, as HTTP methods are); nil for methods not
    /// forwarded (`OPTIONS`, `TRACE`, `CONNECT`, extensions).
    public init?(method: String) {
        switch method {
        case "GET", "HEAD": self = .read
        case "POST", "PUT", "PATCH": self = .write
        case "DELETE": self = .delete
        default: return nil
        }
    }

    /// The methods forwarded, for `Allow`.
    public static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    /// The least side effects a request of this class has.
    public var sideEffects: ToolLabels.SideEffects {
        switch self {
        case .read: .none
        case .write: .write
        case .delete: .destructive
        }
    }
}

extension ToolLabels.SideEffects {
    /// none 0 < write 1 < destructive 2.
    var rank: Int {
        switch self {
        case .none: 0
        case .write: 1
        case .destructive: 2
        }
    }
}
