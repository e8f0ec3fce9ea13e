public import CedarPolicy
public import LatchCore
public import LatchGrants
public import LatchIdentity

/// Decides tool calls: the grant's scope first (cheap, no policy needed), then Cedar.
///
/// The Cedar request (documented in the README, "Gateway policies"):
/// - principal: `Latch::Agent` holding the grant (its SPIFFE ID, registration attributes);
/// - action: `Latch::Action::"CallTool"`;
/// - resource: `Latch::Tool` (its namespaced name) with `upstream`, `sensitivity`,
///   `sensitivity_rank`, `egress`, `side_effects` and, when labelled, `data_domain`;
/// - context: `task` (a `Latch::Task` with `subject` and `intent`), `intent`, `grant` (the
///   grant's scope and shape, as the token endpoint's context), `arguments` (the call's
///   arguments: strings, integers, booleans, numbers with up to 4 decimals as `decimal`, lists
///   as sets, objects as records, nulls left out; a call with any other value is refused),
///   `destination` and `destinations` (when the tool takes one: the first, and all of them; for
///   HTTP egress the API's host), `http` (HTTP egress only: `method`, `path`, `query`), `session` (``SessionFacts``:
///   `calls`, `denials`, `tools_used`, `max_sensitivity_read`, `sensitivity_read_rank` (-1
///   before anything was read), `data_domains_read`, `seconds_since_first_call`, `reads_in_flight`) and `time`
///   (`epoch_seconds`, `hour_utc`, `weekday_utc`, 0 = Sunday).
///
/// Fail closed: a policy that fails to evaluate denies the call.
///
/// Approvable denials: a forbid annotated `@approvable` (or `@approvable("why")`) stops a call
/// only until a person approves it. A deny whose determining policies are all approvable
/// forbids, and which a permit would allow without them, carries ``CallDecision/approvable``;
/// a deny with no determining policy or no satisfied permit (approving must never allow what no
/// policy permits), or one a policy error or the grant's scope decided, never does.
public struct ToolCallPolicy: Sendable {
    public let authorizer: Authorizer
    /// Which policies are forbids (to judge errors when listing tools).
    private let forbids: Set<String>
    /// The forbids annotated `@approvable`, with the annotation's reason ("" when bare).
    public let approvableForbids: [String: String]
    /// The annotation that makes a forbid approvable.
    public static let approvableAnnotation = "approvable"
    /// The policies without the approvable forbids (nil when there are none): asked, on an
    /// approvable deny only, whether a permit holds.
    private let withoutApprovable: Authorizer?
    /// Registration attributes of an agent.
    public let attributes: @Sendable (SPIFFEID) -> [String: EntryAttribute]

    public static let callTool = LatchEntities.action("CallTool")

    public init(policies: PolicySet, attributes: @escaping @Sendable (SPIFFEID) -> [String: EntryAttribute]) {
        self.authorizer = Authorizer(policies)
        let forbids = policies.effectivePolicies.filter { $0.effect == .forbid }
        self.forbids = Set(forbids.map(\.id))
        var approvable: [String: String] = [:]
        for policy in forbids {
            if let reason = policy.annotation(Self.approvableAnnotation) { approvable[policy.id] = reason }
        }
        self.approvableForbids = approvable
        var rest = PolicySet()
        for policy in policies.effectivePolicies where approvable[policy.id] == nil {
            // Linked policies come out of effectivePolicies whole (no slots), so each adds as a static one.
            do { try rest.add(policy) } catch { continue }
        }
        self.withoutApprovable = approvable.isEmpty ? nil : Authorizer(rest)
        self.attributes = attributes
    }

    /// The decision for a call of `tool` with `arguments` under `grant`, given the task's
    /// session facts so far.
    public func decide(grant: TaskGrant, tool: GatewayTool, arguments: [String: LatchIdentity.JSONValue], facts: SessionFacts, now: Int64) -> CallDecision {
        self.decide(grant: grant, tool: tool, arguments: arguments, fixedDestination: nil, context: [:], facts: facts, now: now)
    }

    /// The decision for a call of `tool`, as above, for calls whose destination the operator
    /// fixed (an HTTP API's host) and whose request adds facts of its own.
    ///
    /// - Parameters:
    ///   - fixedDestination: where the call goes whatever its arguments (used when the tool has
    ///     no destination argument): policies see it as `context.destination` and the record
    ///     keeps it, but it is not checked against the grant's destinations (those bound where an
    ///     agent may choose to send data; here the tool's name, which the grant must hold,
    ///     already fixes it).
    ///   - extra: more members of the Cedar context (an HTTP request's `http`); the standard
    ///     members win over them.
    public func decide(
        grant: TaskGrant, tool: GatewayTool, arguments: [String: LatchIdentity.JSONValue], fixedDestination: String?, context extra: [String: Value],
        facts: SessionFacts, now: Int64
    ) -> CallDecision {
        if let denial = Self.scopeDenial(grant: grant, tool: tool, destinations: []) { return denial }
        var destinations: [String] = []
        let destinationArguments = tool.labels.destinationArguments
        if destinationArguments.isEmpty, let fixedDestination { destinations = [fixedDestination] }
        if let first = destinationArguments.first {
            // Every value of every destination argument (`to`, and `cc`/`bcc` when labelled so).
            for argument in destinationArguments {
                switch arguments[argument] {
                case nil, .null?: continue
                default: break
                }
                let values: [LatchIdentity.JSONValue] = arguments[argument]?.arrayValue ?? arguments[argument].map { [$0] } ?? []
                for value in values {
                    guard let text = value.stringValue, let destination = Destination.normalize(text) else {
                        return .deny(
                            DenialReason.destinationInvalid,
                            "\(tool.name)'s \"\(argument)\" must be one URL, email address or host per entry, written unambiguously")
                    }
                    destinations.append(destination)
                }
            }
            guard !destinations.isEmpty else {
                let named = destinationArguments.count == 1 ? "its \"\(first)\" argument" : "its \(destinationArguments.map { "\"\($0)\"" }.joined(separator: ", ")) arguments"
                return .deny(DenialReason.destinationMissing, "\(tool.name) sends data to \(named), which the call does not give")
            }
            if let denial = Self.scopeDenial(grant: grant, tool: tool, destinations: destinations) { return denial }
        }
        let destination = destinations.isEmpty ? nil : destinations.joined(separator: ",")
        var cedarArguments: [String: Value] = [:]
        for (name, value) in arguments {
            switch Self.cedarValue(value, depth: 0) {
            case .value(let converted): cedarArguments[name] = converted
            case .absent: break
            case .unrepresentable:
                return .deny(
                    DenialReason.invalidArguments,
                    "argument \"\(name.prefix(64))\" cannot be shown to policies (a float with more than 4 decimals, a list holding nulls, or nested deeper than 8)")
            }
        }
        let response = self.evaluate(
            grant: grant, tool: tool, arguments: cedarArguments, destinations: destinations, extra: extra, facts: facts, now: now,
            authorizer: self.authorizer)
        return self.decision(response, destination: destination) { authorizer in
            self.evaluate(
                grant: grant, tool: tool, arguments: cedarArguments, destinations: destinations, extra: extra, facts: facts, now: now,
                authorizer: authorizer)
        }
    }

    /// Cedar's answer as a call decision: errors deny (fail closed), then Cedar's decision. A
    /// deny determined by approvable forbids only is marked approvable when `reevaluate` (the
    /// same request under the policies without them) allows.
    func decision(_ response: Response, destination: String?, reevaluate: (Authorizer) -> Response) -> CallDecision {
        let errors = response.errors.map(\.policyID)
        if !errors.isEmpty {
            return .deny(
                DenialReason.policyError, "policies failed to evaluate: \(errors.joined(separator: ", "))", errors: errors, destination: destination)
        }
        guard response.decision == .allow else {
            let message = response.reason.isEmpty ? "no policy permits this call" : "forbidden by \(response.reason.joined(separator: ", "))"
            var denial = CallDecision.deny(DenialReason.policyDenied, message, policies: response.reason, destination: destination)
            if let hold = self.approvable(response.reason), let withoutApprovable, reevaluate(withoutApprovable).decision == .allow {
                denial.approvable = hold
            }
            return denial
        }
        return .allow(policies: response.reason, destination: destination)
    }

    /// Whether `tool` belongs in this grant's `tools/list`: inside the scope, and some call of
    /// it could be allowed. Policies are asked as for a call without arguments; one that fails
    /// to evaluate (typically because it reads the call's arguments or destination) counts as
    /// undecided: a permit that errors could hold, a forbid that errors might not.
    public func mayList(grant: TaskGrant, tool: GatewayTool, facts: SessionFacts, now: Int64) -> Bool {
        if Self.scopeDenial(grant: grant, tool: tool, destinations: []) != nil { return false }
        var response = self.evaluate(
            grant: grant, tool: tool, arguments: [:], destinations: [], extra: [:], facts: facts, now: now, authorizer: self.authorizer)
        // Approvable forbids do not hide the tool: a person may let the call through if a permit holds.
        if response.decision == .deny, let withoutApprovable, self.approvable(response.reason) != nil {
            response = self.evaluate(
                grant: grant, tool: tool, arguments: [:], destinations: [], extra: [:], facts: facts, now: now, authorizer: withoutApprovable)
        }
        let forbidden = response.decision == .deny && response.reason.contains { self.forbids.contains($0) }
        if forbidden { return false }
        return response.decision == .allow || response.errors.contains { !self.forbids.contains($0.policyID) }
    }

    /// The hold of a policy deny determined by `policies`: every one an approvable forbid, and
    /// at least one (a deny no policy determined is not approvable).
    func approvable(_ policies: [String]) -> Approvable? {
        guard !policies.isEmpty else { return nil }
        var reasons: [String] = []
        for id in policies {
            guard let reason = self.approvableForbids[id] else { return nil }
            if !reason.isEmpty, !reasons.contains(reason) { reasons.append(reason) }
        }
        return Approvable(reason: reasons.joined(separator: "; "), policies: policies)
    }

    /// The first way the call falls outside the grant's scope (the tool, its data domain and
    /// sensitivity, then each destination).
    static func scopeDenial(grant: TaskGrant, tool: GatewayTool, destinations: [String]) -> CallDecision? {
        let scope = grant.scope
        guard scope.tools.contains(tool.name) else {
            return .deny(DenialReason.toolNotInGrant, "\(tool.name) is not in the grant's tools")
        }
        if let domain = tool.labels.dataDomain, !scope.dataDomains.contains(domain) {
            return .deny(DenialReason.dataDomainNotInGrant, "\(tool.name) reads data domain \"\(domain)\", which is not in the grant's data domains")
        }
        if tool.labels.sensitivity > scope.maxSensitivity {
            return .deny(
                DenialReason.sensitivityAboveGrant,
                "\(tool.name) returns \(tool.labels.sensitivity.rawValue) data; the grant allows at most \(scope.maxSensitivity.rawValue)")
        }
        if let outside = destinations.first(where: { !Destination.isAllowed($0, by: scope.destinations) }) {
            return .deny(
                DenialReason.destinationNotInGrant, "destination \"\(outside)\" is not in the grant's destinations", destination: destinations.joined(separator: ","))
        }
        return nil
    }

    /// The Cedar request of a call and its answer under `authorizer`. `arguments` nil leaves
    /// `context.arguments` out (a replay of a call whose arguments were not kept: a policy reading
    /// them fails).
    func evaluate(
        grant: TaskGrant, tool: GatewayTool, arguments: [String: Value]?, destinations: [String], extra: [String: Value], facts: SessionFacts,
        now: Int64, authorizer: Authorizer
    ) -> Response {
        let task = LatchEntities.task(id: grant.taskID, subject: grant.subject, intent: grant.intent)
        let toolUID = EntityUID(type: LatchEntities.toolType, id: tool.name)
        var entities = [
            task,
            Entity(uid: toolUID, attributes: Self.toolAttributes(tool)),
            Entity(uid: LatchEntities.agent(grant.holder), attributes: LatchEntities.agentAttributes(grant.holder, entry: self.attributes(grant.holder))),
        ]
        if grant.subject != grant.holder {
            entities.append(
                Entity(uid: LatchEntities.agent(grant.subject), attributes: LatchEntities.agentAttributes(grant.subject, entry: self.attributes(grant.subject))))
        }
        var context = extra
        context.merge([
            "task": .entity(task.uid),
            "intent": .string(grant.intent),
            "grant": .record(LatchEntities.grantAttributes(grant)),
            "session": .record(Self.sessionAttributes(facts, now: now)),
            "time": .record(Self.timeAttributes(now)),
        ]) { _, standard in standard }
        if let arguments { context["arguments"] = .record(arguments) }
        // Per call, from the gateway's value provenance (empty when it has nothing to say).
        context["tainted_arguments"] = extra["tainted_arguments"] ?? LatchEntities.strings([String]())
        if let first = destinations.first {
            context["destination"] = .string(first)
            context["destinations"] = LatchEntities.strings(destinations)
        }
        let store: Entities
        do { store = try Entities(entities) } catch {
            return Response(decision: .deny, reason: [], errors: [PolicyEvaluationError(policyID: "entities", error: error)])
        }
        return authorizer.isAuthorized(
            Request(principal: LatchEntities.agent(grant.holder), action: Self.callTool, resource: toolUID, context: context), entities: store)
    }

    static func toolAttributes(_ tool: GatewayTool) -> [String: Value] {
        var attributes: [String: Value] = [
            "upstream": .string(tool.upstream),
            "sensitivity": .string(tool.labels.sensitivity.rawValue),
            "sensitivity_rank": .long(Int64(tool.labels.sensitivity.rank)),
            "egress": .string(tool.labels.egress.rawValue),
            "side_effects": .string(tool.labels.sideEffects.rawValue),
            "untrusted": .bool(tool.labels.untrusted),
        ]
        if let domain = tool.labels.dataDomain { attributes["data_domain"] = .string(domain) }
        return attributes
    }

    static func sessionAttributes(_ facts: SessionFacts, now: Int64) -> [String: Value] {
        [
            "calls": .long(Int64(facts.calls)),
            "denials": .long(Int64(facts.denials)),
            "tools_used": LatchEntities.strings(facts.toolsUsed),
            "max_sensitivity_read": .string(facts.maxSensitivityRead?.rawValue ?? "none"),
            "sensitivity_read_rank": .long(Int64(facts.maxSensitivityRead?.rank ?? -1)),
            "data_domains_read": LatchEntities.strings(facts.dataDomainsRead),
            "seconds_since_first_call": .long(facts.firstCallAt.map { max(0, now - $0) / 1000 } ?? 0),
            "reads_in_flight": .long(Int64(facts.readsInFlight)),
            "untrusted_read": .bool(facts.untrustedRead),
        ]
    }

    static func timeAttributes(_ now: Int64) -> [String: Value] {
        let seconds = now / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1970-01-01 was a Thursday (4).
        return ["epoch_seconds": .long(seconds), "hour_utc": .long((seconds - days * 86_400) / 3600), "weekday_utc": .long(((days % 7) + 11) % 7)]
    }

    /// An argument as policies see it.
    enum Converted {
        case value(Value)
        /// Left out: a JSON null (the same, to a tool, as an argument not given).
        case absent
        /// No faithful Cedar value: the call is refused rather than decided on a partial view.
        case unrepresentable
    }

    /// Strings, integers and booleans as themselves; numbers with a fraction as `decimal` (up to
    /// 4 decimals, Cedar's precision); lists as sets; objects as records (null members left
    /// out); nesting up to 8.
    static func cedarValue(_ json: LatchIdentity.JSONValue, depth: Int) -> Converted {
        guard depth < 8 else { return .unrepresentable }
        switch json {
        case .string(let s): return .value(.string(s))
        case .int(let i): return .value(.long(i))
        case .bool(let b): return .value(.bool(b))
        case .null: return .absent
        case .double(let d):
            let scaled = d * 10_000
            guard d.isFinite, scaled.rounded() == scaled, abs(scaled) < 9.2e18 else { return .unrepresentable }
            let units = Int64(scaled)
            let fraction = String(abs(units % 10_000))
            let text = (units < 0 ? "-" : "") + String(abs(units / 10_000)) + "." + String(repeating: "0", count: 4 - fraction.count) + fraction
            guard let decimal = try? CedarDecimal(parsing: text) else { return .unrepresentable }
            return .value(.ext(.decimal(decimal)))
        case .array(let items):
            var values = Set<Value>()
            for item in items {
                guard case .value(let value) = Self.cedarValue(item, depth: depth + 1) else { return .unrepresentable }
                values.insert(value)
            }
            return .value(.set(values))
        case .object(let members):
            var record: [String: Value] = [:]
            for (name, member) in members {
                switch Self.cedarValue(member, depth: depth + 1) {
                case .value(let value): record[name] = value
                case .absent: break
                case .unrepresentable: return .unrepresentable
                }
            }
            return .value(.record(record))
        }
    }
}
