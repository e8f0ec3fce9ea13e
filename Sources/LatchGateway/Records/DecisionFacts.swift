public import LatchCore
public import LatchGrants
public import LatchIdentity

/// What a decision saw besides the grant, the tool and the arguments: the task's session facts
/// handed to Cedar (`context.session`), the arguments value provenance marked tainted
/// (`context.tainted_arguments`) and, for HTTP egress, the request's method (`context.http`).
/// Kept on decision records (`facts`) so `latch policy replay` can rebuild the request a recorded
/// call was decided on.
///
/// Small and canonical on purpose: it is part of a ledger leaf. An egress request's path and
/// query are not kept here: they are its arguments (a REST path names customers, accounts,
/// addresses), kept as keyed hashes in `argument_hmacs` and, when arguments are kept, sealed in
/// `arguments_sealed`, where replay reads them. Records written before 2026-11-30 have
/// `http.path` in clear; they are still read.
public struct DecisionFacts: Hashable, Sendable {
    public var calls: Int64
    public var denials: Int64
    /// Sorted.
    public var toolsUsed: [String]
    /// nil while nothing has been read.
    public var maxSensitivityRead: Sensitivity?
    /// Sorted.
    public var dataDomainsRead: [String]
    public var secondsSinceFirstCall: Int64
    public var readsInFlight: Int64
    public var untrustedRead: Bool
    /// Sorted.
    public var taintedArguments: [String]
    /// HTTP egress only: the request's method.
    public var http: HTTP?

    public struct HTTP: Hashable, Sendable {
        public var method: String
        /// The path below the API, in clear: only in records written before 2026-11-30 (nil since).
        public var path: String?

        public init(method: String, path: String? = nil) {
            self.method = method
            self.path = path
        }

        var json: JSONValue {
            var members: [String: JSONValue] = ["method": .string(self.method)]
            if let path = self.path { members["path"] = .string(path) }
            return .object(members)
        }
    }

    public init(
        calls: Int64 = 0, denials: Int64 = 0, toolsUsed: [String] = [], maxSensitivityRead: Sensitivity? = nil, dataDomainsRead: [String] = [],
        secondsSinceFirstCall: Int64 = 0, readsInFlight: Int64 = 0, untrustedRead: Bool = false, taintedArguments: [String] = [], http: HTTP? = nil
    ) {
        self.calls = calls
        self.denials = denials
        self.toolsUsed = toolsUsed.sorted()
        self.maxSensitivityRead = maxSensitivityRead
        self.dataDomainsRead = dataDomainsRead.sorted()
        self.secondsSinceFirstCall = secondsSinceFirstCall
        self.readsInFlight = readsInFlight
        self.untrustedRead = untrustedRead
        self.taintedArguments = taintedArguments.sorted()
        self.http = http
    }

    /// The facts of `session` as a decision at `now` sees them (as ``ToolCallPolicy`` computes
    /// `context.session`).
    public init(session: SessionFacts, now: Int64, taintedArguments: [String], http: HTTP? = nil) {
        self.init(
            calls: Int64(session.calls), denials: Int64(session.denials), toolsUsed: Array(session.toolsUsed),
            maxSensitivityRead: session.maxSensitivityRead, dataDomainsRead: Array(session.dataDomainsRead),
            secondsSinceFirstCall: session.firstCallAt.map { max(0, now - $0) / 1000 } ?? 0, readsInFlight: Int64(session.readsInFlight),
            untrustedRead: session.untrustedRead, taintedArguments: taintedArguments, http: http)
    }

    /// Session facts that give a decision at `now` the same `context.session` as the recorded one.
    public func sessionFacts(now: Int64) -> SessionFacts {
        var facts = SessionFacts()
        facts.calls = Int(clamping: self.calls)
        facts.denials = Int(clamping: self.denials)
        facts.toolsUsed = Set(self.toolsUsed)
        facts.maxSensitivityRead = self.maxSensitivityRead
        facts.dataDomainsRead = Set(self.dataDomainsRead)
        facts.firstCallAt = now - self.secondsSinceFirstCall * 1000
        facts.readsInFlight = Int(clamping: self.readsInFlight)
        facts.untrustedRead = self.untrustedRead
        return facts
    }

    /// `{"session": {...}, "tainted_arguments": [...], "http": {"method"}}`; `http` only for
    /// egress (with `path` in records written before 2026-11-30), `max_sensitivity_read` only
    /// once something was read.
    public var json: JSONValue {
        var session: [String: JSONValue] = [
            "calls": .int(self.calls), "denials": .int(self.denials), "tools_used": .array(self.toolsUsed.map(JSONValue.string)),
            "data_domains_read": .array(self.dataDomainsRead.map(JSONValue.string)), "seconds_since_first_call": .int(self.secondsSinceFirstCall),
            "reads_in_flight": .int(self.readsInFlight), "untrusted_read": .bool(self.untrustedRead),
        ]
        if let read = self.maxSensitivityRead { session["max_sensitivity_read"] = .string(read.rawValue) }
        var object: [String: JSONValue] = [
            "session": .object(session), "tainted_arguments": .array(self.taintedArguments.map(JSONValue.string)),
        ]
        if let http = self.http { object["http"] = http.json }
        return .object(object)
    }

    /// Writes the members of ``json`` into the open object `out`, in RFC 8785 order (for
    /// ``DecisionRecord/canonicalJSON``).
    func write(into out: inout CanonicalObjectWriter) {
        if let http = self.http {
            out.open("http")
            out.string("method", http.method)
            if let path = http.path { out.string("path", path) }
            out.close()
        }
        out.open("session")
        out.int("calls", self.calls)
        out.strings("data_domains_read", self.dataDomainsRead)
        out.int("denials", self.denials)
        out.string("max_sensitivity_read", self.maxSensitivityRead?.rawValue)
        out.int("reads_in_flight", self.readsInFlight)
        out.int("seconds_since_first_call", self.secondsSinceFirstCall)
        out.strings("tools_used", self.toolsUsed)
        out.bool("untrusted_read", self.untrustedRead)
        out.close()
        out.strings("tainted_arguments", self.taintedArguments)
    }

    /// Reads ``json`` back strictly (every key with its type, no other key); errors name the key.
    public init(json: JSONValue) throws(LatchError) {
        guard case .object(let object) = json, Set(object.keys).isSubset(of: ["session", "tainted_arguments", "http"]),
            case .object(let session)? = object["session"],
            Set(session.keys).isSubset(of: [
                "calls", "denials", "tools_used", "max_sensitivity_read", "data_domains_read", "seconds_since_first_call", "reads_in_flight",
                "untrusted_read",
            ])
        else { throw LatchError(.invalidInput, "a decision record's \"facts\" must be {session, tainted_arguments, http?} with known keys") }
        func int(_ key: String) throws(LatchError) -> Int64 {
            guard case .int(let value)? = session[key] else { throw Self.error("session.\(key)", "an integer") }
            return value
        }
        func strings(_ value: JSONValue?, _ key: String) throws(LatchError) -> [String] {
            guard case .array(let items)? = value else { throw Self.error(key, "an array of strings") }
            var strings: [String] = []
            for item in items {
                guard case .string(let string) = item else { throw Self.error(key, "an array of strings") }
                strings.append(string)
            }
            return strings
        }
        guard case .bool(let untrusted)? = session["untrusted_read"] else { throw Self.error("session.untrusted_read", "true or false") }
        var read: Sensitivity?
        if let value = session["max_sensitivity_read"] {
            guard let parsed = value.stringValue.flatMap(Sensitivity.init(rawValue:)) else {
                throw Self.error("session.max_sensitivity_read", "a sensitivity")
            }
            read = parsed
        }
        var http: HTTP?
        if let value = object["http"] {
            guard case .object(let members) = value, Set(members.keys).isSubset(of: ["method", "path"]),
                case .string(let method)? = members["method"]
            else { throw Self.error("http", "{method} (and, in older records, path) strings") }
            var path: String?
            if let value = members["path"] {
                guard case .string(let string) = value else { throw Self.error("http.path", "a string") }
                path = string
            }
            http = HTTP(method: method, path: path)
        }
        self.init(
            calls: try int("calls"), denials: try int("denials"), toolsUsed: try strings(session["tools_used"], "session.tools_used"),
            maxSensitivityRead: read, dataDomainsRead: try strings(session["data_domains_read"], "session.data_domains_read"),
            secondsSinceFirstCall: try int("seconds_since_first_call"), readsInFlight: try int("reads_in_flight"), untrustedRead: untrusted,
            taintedArguments: try strings(object["tainted_arguments"], "tainted_arguments"), http: http)
    }

    private static func error(_ key: String, _ expected: String) -> LatchError {
        LatchError(.invalidInput, "a decision record's \"facts.\(key)\" must be \(expected)")
    }
}
