public import CedarPolicy
public import LatchAudit
public import LatchCore
public import LatchGateway
public import LatchGrants
public import LatchIdentity

/// Re-decides recorded tool calls under a candidate policy set (`latch policy replay`), so a
/// policy change is tried on real traffic before it is deployed.
///
/// A record is replayed when its decision was Cedar's: a decision record (not an outcome) of
/// `tools/call` or HTTP egress that carries its ``DecisionFacts`` and was allowed, or denied
/// `policy_denied` / `policy_error`. Scope, pin, guard and malformed-call denials are not policy
/// decisions: they are counted as skipped. The request is rebuilt from the record (facts,
/// destination, time), the grant as stored (scope, intent, subject, holder), the agents'
/// current registration attributes, the tools' labels in the current configuration, and the
/// arguments when the record kept them (sealed); without them `context.arguments` is left out,
/// and a decision in which any policy failed to evaluate is reported undecidable rather than
/// guessed.
public struct PolicyReplay: Sendable {
    /// How a call was or would be decided.
    public enum Verdict: String, Sendable, Hashable {
        case allow
        case deny
    }

    /// A recorded decision the candidate policies would change.
    public struct Change: Sendable, Hashable {
        public var recordID: String
        public var time: Int64
        public var agent: String
        public var tool: String
        public var old: Verdict
        public var new: Verdict
        /// The policies determining the new decision (or those that failed, for a deny by error).
        public var policies: [String]
        /// The new decision's denial reason code, nil when allowed.
        public var reason: String?
    }

    /// What became of one record.
    public enum Outcome: Sendable, Hashable {
        case unchanged
        case changed(Change)
        /// Not a policy decision (or outside the replay): not counted as replayed.
        case skipped
        /// Cannot be re-decided honestly, and why.
        case undecidable(String)
    }

    /// The totals of a replay, with every change and every undecidable record.
    public struct Report: Sendable {
        public var replayed = 0
        public var unchanged = 0
        public var skipped = 0
        public var changes: [Change] = []
        public var undecidable: [(recordID: String, reason: String)] = []

        public init() {}
    }

    public let policy: ToolCallPolicy
    let configuration: ServerConfiguration
    let privacy: RecordPrivacy?

    /// - Parameters:
    ///   - attributes: agents' registration attributes (see ``attributes(of:)``).
    ///   - privacy: opens kept arguments; nil: records' sealed arguments count as not kept.
    public init(
        policies: PolicySet, configuration: ServerConfiguration, attributes: [SPIFFEID: [String: EntryAttribute]], privacy: RecordPrivacy?
    ) {
        self.policy = ToolCallPolicy(policies: policies) { id in attributes[id] ?? [:] }
        self.configuration = configuration
        self.privacy = privacy
    }

    /// The policy set at `path` (a `.cedar` file, or a directory of them), read exactly as
    /// `latch serve` reads its `policies`; a bad file is an error naming it.
    public static func loadPolicies(at path: String) throws(LatchError) -> PolicySet {
        try CedarGrantDecider.loadPolicies(at: path)
    }

    /// Registration attributes per SPIFFE ID, as the gateway computes them: those of an ID's
    /// entries when they all agree, else none.
    public static func attributes(of entries: [RegistrationEntry]) -> [SPIFFEID: [String: EntryAttribute]] {
        var grouped: [SPIFFEID: Set<[String: EntryAttribute]>] = [:]
        for entry in entries { grouped[entry.spiffeID, default: []].insert(entry.attributes) }
        return grouped.mapValues { $0.count == 1 ? $0.first ?? [:] : [:] }
    }

    /// Whether `record` holds a decision Cedar made.
    public static func isPolicyDecision(_ record: DecisionRecord) -> Bool {
        guard record.decisionID == nil, record.method == "tools/call" || record.method == "http", record.tool != nil else { return false }
        return record.allowed || record.reason == DenialReason.policyDenied || record.reason == DenialReason.policyError
    }

    /// Re-decides one record; `grant` is the stored grant it names (nil: no longer stored).
    public func replay(_ record: DecisionRecord, grant: TaskGrant?) -> Outcome {
        guard Self.isPolicyDecision(record), let toolName = record.tool else { return .skipped }
        guard let facts = record.facts else { return .undecidable("the record has no decision facts (written before they were kept)") }
        guard let grant else { return .undecidable("grant \(record.grantID) is no longer stored") }
        var arguments: LatchIdentity.JSONValue?
        if record.argumentsSealed != nil {
            guard let privacy = self.privacy else { return .undecidable("the arguments are sealed and no ledger key was given to open them") }
            do { arguments = try privacy.openArguments(of: record) } catch { return .undecidable(error.message) }
        }
        var context: [String: Value] = ["tainted_arguments": LatchEntities.strings(facts.taintedArguments)]
        let decision: CallDecision
        let sessionFacts = facts.sessionFacts(now: record.time)
        if record.method == "http" {
            guard let (api, verb) = self.httpAPI(toolName), let http = facts.http else {
                return .undecidable("\(toolName) is not an HTTP API of the current configuration")
            }
            guard let tool = GatewayTool(upstream: api.name, definition: .object(["name": .string(verb.rawValue)]), labels: api.labels(for: verb))
            else {
                return .undecidable("\(toolName) cannot be rebuilt")
            }
            // Path and query are arguments: present only when the arguments were kept (older
            // records have the path in their facts). Policies reading an absent one fail to
            // evaluate, and the call is undecidable below.
            var members: [String: Value] = ["method": .string(http.method)]
            if let arguments {
                let path = arguments["path"]?.stringValue ?? ""
                members["path"] = .string(path.isEmpty ? "/" : path)
                members["query"] = .string(arguments["query"]?.stringValue ?? "")
            } else if let path = http.path {
                members["path"] = .string(path)
            }
            context["http"] = .record(members)
            decision = self.policy.decide(
                grant: grant, tool: tool, arguments: [:], fixedDestination: api.host, context: context, facts: sessionFacts, now: record.time)
        } else {
            guard let tool = self.tool(toolName) else { return .undecidable("\(toolName) is not a tool of the current configuration") }
            if let arguments {
                decision = self.policy.decide(
                    grant: grant, tool: tool, arguments: arguments.objectValue ?? [:], fixedDestination: nil, context: context, facts: sessionFacts,
                    now: record.time)
            } else {
                let destinations = record.destination.map { $0.split(separator: ",").map(String.init) } ?? []
                decision = self.policy.decideWithoutArguments(
                    grant: grant, tool: tool, destinations: destinations, context: context, facts: sessionFacts, now: record.time)
            }
        }
        if !decision.errors.isEmpty, arguments == nil {
            return .undecidable("arguments not kept: \(decision.errors.joined(separator: ", ")) failed to evaluate without them")
        }
        let old: Verdict = record.allowed ? .allow : .deny
        let new: Verdict = decision.allowed ? .allow : .deny
        guard old != new else { return .unchanged }
        return .changed(
            Change(
                recordID: record.id, time: record.time, agent: record.agent, tool: toolName, old: old, new: new,
                policies: decision.errors.isEmpty ? decision.policies : decision.errors, reason: decision.reason?.code))
    }

    /// Replays every record of `store` with `since <= time < until` (ledger order).
    public static func run(
        store: any LatchStore, policies: PolicySet, configuration: ServerConfiguration, privacy: RecordPrivacy?, since: Int64, until: Int64?
    ) async throws -> Report {
        let replay = PolicyReplay(
            policies: policies, configuration: configuration, attributes: Self.attributes(of: try await store.listEntries()), privacy: privacy)
        var grants: [String: TaskGrant?] = [:]
        var report = Report()
        try await LedgerRecords.forEach(in: store) { record async throws in
            guard record.time >= since, until.map({ record.time < $0 }) ?? true else { return }
            guard Self.isPolicyDecision(record) else {
                // Outcome records are the second half of a call, not a decision of their own.
                if record.decisionID == nil { report.skipped += 1 }
                return
            }
            if grants[record.grantID] == nil { grants[record.grantID] = .some(try await store.grant(id: record.grantID)) }
            switch replay.replay(record, grant: grants[record.grantID] ?? nil) {
            case .skipped: report.skipped += 1
            case .unchanged:
                report.replayed += 1
                report.unchanged += 1
            case .changed(let change):
                report.replayed += 1
                report.changes.append(change)
            case .undecidable(let reason): report.undecidable.append((record.id, reason))
            }
        }
        return report
    }

    private func tool(_ name: String) -> GatewayTool? {
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let (upstreamName, toolName) = (String(name[..<dot]), String(name[name.index(after: dot)...]))
        guard let upstream = self.configuration.upstreams.first(where: { $0.name == upstreamName }),
            let labels = upstream.labels(for: toolName)
        else { return nil }
        return GatewayTool(upstream: upstreamName, definition: .object(["name": .string(toolName)]), labels: labels)
    }

    private func httpAPI(_ name: String) -> (HTTPAPIConfiguration, HTTPVerbClass)? {
        guard let dot = name.lastIndex(of: "."), let verb = HTTPVerbClass(rawValue: String(name[name.index(after: dot)...])),
            let api = self.configuration.httpAPIs.first(where: { $0.name == String(name[..<dot]) })
        else { return nil }
        return (api, verb)
    }
}

/// Reading decision records back in ledger order, a page at a time.
public enum LedgerRecords {
    /// Calls `body` with every record in the ledger, index 0 first. A leaf that is not a record
    /// is an error naming its index.
    public static func forEach(in store: any LedgerRepository, _ body: (DecisionRecord) async throws -> Void) async throws {
        var next: Int64 = 0
        while true {
            let page = try await store.ledgerEntries(from: next, limit: LedgerVerifier.pageSize)
            guard let last = page.last else { return }
            for entry in page {
                guard let json = LatchIdentity.JSONValue(parsing: entry.bytes) else {
                    throw LatchError(.internalError, "ledger index \(entry.index) is not JSON")
                }
                let record: DecisionRecord
                do { record = try DecisionRecord(json: json) } catch {
                    throw LatchError(.internalError, "ledger index \(entry.index): \(error.message)")
                }
                try await body(record)
            }
            next = last.index + 1
        }
    }

    /// The record with this ID, or nil (a scan in ledger order that stops at it).
    public static func record(id: String, in store: any LedgerRepository) async throws -> DecisionRecord? {
        var next: Int64 = 0
        while true {
            let page = try await store.ledgerEntries(from: next, limit: LedgerVerifier.pageSize)
            guard let last = page.last else { return nil }
            for entry in page {
                guard let json = LatchIdentity.JSONValue(parsing: entry.bytes), json["id"]?.stringValue == id else { continue }
                do { return try DecisionRecord(json: json) } catch {
                    throw LatchError(.internalError, "ledger index \(entry.index): \(error.message)")
                }
            }
            next = last.index + 1
        }
    }
}
