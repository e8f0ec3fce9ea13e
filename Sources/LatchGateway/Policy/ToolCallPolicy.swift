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
///   arguments: strings, integers, booleans, lists as sets, objects as records; floats and
///   nulls left out), `destination` (when the tool takes one), `session` (``SessionFacts``:
///   `calls`, `denials`, `tools_used`, `max_sensitivity_read`, `sensitivity_read_rank` (-1
///   before anything was read), `data_domains_read`, `seconds_since_first_call`, `reads_in_flight`) and `time`
///   (`epoch_seconds`, `hour_utc`, `weekday_utc`, 0 = Sunday).
///
/// Fail closed: a policy that fails to evaluate denies the call.
public struct ToolCallPolicy: Sendable {
    public let authorizer: Authorizer
    /// Which policies are forbids (to judge errors when listing tools).
    private let forbids: Set<String>
    /// Registration attributes of an agent.
    public let attributes: @Sendable (SPIFFEID) -> [String: EntryAttribute]

    public static let callTool = LatchEntities.action("CallTool")

    public init(policies: PolicySet, attributes: @escaping @Sendable (SPIFFEID) -> [String: EntryAttribute]) {
        self.authorizer = Authorizer(policies)
        self.forbids = Set(policies.effectivePolicies.filter { $0.effect == .forbid }.map(\.id))
        self.attributes = attributes
    }

    /// The decision for a call of `tool` with `arguments` under `grant`, given the task's
    /// session facts so far.
    public func decide(grant: TaskGrant, tool: GatewayTool, arguments: [String: LatchIdentity.JSONValue], facts: SessionFacts, now: Int64) -> CallDecision {
        var destination: String?
        if let argument = tool.labels.destinationArgument {
            guard let value = arguments[argument]?.stringValue, !value.isEmpty else {
                return .deny(DenialReason.destinationMissing, "\(tool.name) sends data to its \"\(argument)\" argument, which the call does not give as a string")
            }
            destination = Destination.normalize(value)
        }
        if let denial = Self.scopeDenial(grant: grant, tool: tool, destination: destination) { return denial }
        let response = self.evaluate(grant: grant, tool: tool, arguments: arguments, destination: destination, facts: facts, now: now)
        let errors = response.errors.map(\.policyID)
        if !errors.isEmpty {
            return .deny(
                DenialReason.policyError, "policies failed to evaluate: \(errors.joined(separator: ", "))", errors: errors, destination: destination)
        }
        guard response.decision == .allow else {
            let message = response.reason.isEmpty ? "no policy permits this call" : "forbidden by \(response.reason.joined(separator: ", "))"
            return .deny(DenialReason.policyDenied, message, policies: response.reason, destination: destination)
        }
        return .allow(policies: response.reason, destination: destination)
    }

    /// Whether `tool` belongs in this grant's `tools/list`: inside the scope, and some call of
    /// it could be allowed. Policies are asked as for a call without arguments; one that fails
    /// to evaluate (typically because it reads the call's arguments or destination) counts as
    /// undecided: a permit that errors could hold, a forbid that errors might not.
    public func mayList(grant: TaskGrant, tool: GatewayTool, facts: SessionFacts, now: Int64) -> Bool {
        if Self.scopeDenial(grant: grant, tool: tool, destination: nil) != nil { return false }
        let response = self.evaluate(grant: grant, tool: tool, arguments: [:], destination: nil, facts: facts, now: now)
        let forbidden = response.decision == .deny && response.reason.contains { self.forbids.contains($0) }
        if forbidden { return false }
        return response.decision == .allow || response.errors.contains { !self.forbids.contains($0.policyID) }
    }

    /// The first way the call falls outside the grant's scope (destination nil: not checked).
    static func scopeDenial(grant: TaskGrant, tool: GatewayTool, destination: String?) -> CallDecision? {
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
        if let destination, !Destination.isAllowed(destination, by: scope.destinations) {
            return .deny(DenialReason.destinationNotInGrant, "destination \"\(destination)\" is not in the grant's destinations", destination: destination)
        }
        return nil
    }

    private func evaluate(
        grant: TaskGrant, tool: GatewayTool, arguments: [String: LatchIdentity.JSONValue], destination: String?, facts: SessionFacts, now: Int64
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
        var context: [String: Value] = [
            "task": .entity(task.uid),
            "intent": .string(grant.intent),
            "grant": .record(LatchEntities.grantAttributes(grant)),
            "arguments": .record(arguments.compactMapValues { Self.cedarValue($0, depth: 0) }),
            "session": .record(Self.sessionAttributes(facts, now: now)),
            "time": .record(Self.timeAttributes(now)),
        ]
        if let destination { context["destination"] = .string(destination) }
        let store: Entities
        do { store = try Entities(entities) } catch {
            return Response(decision: .deny, reason: [], errors: [PolicyEvaluationError(policyID: "entities", error: error)])
        }
        return self.authorizer.isAuthorized(
            Request(principal: LatchEntities.agent(grant.holder), action: Self.callTool, resource: toolUID, context: context), entities: store)
    }

    static func toolAttributes(_ tool: GatewayTool) -> [String: Value] {
        var attributes: [String: Value] = [
            "upstream": .string(tool.upstream),
            "sensitivity": .string(tool.labels.sensitivity.rawValue),
            "sensitivity_rank": .long(Int64(tool.labels.sensitivity.rank)),
            "egress": .string(tool.labels.egress.rawValue),
            "side_effects": .string(tool.labels.sideEffects.rawValue),
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
        ]
    }

    static func timeAttributes(_ now: Int64) -> [String: Value] {
        let seconds = now / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1970-01-01 was a Thursday (4).
        return ["epoch_seconds": .long(seconds), "hour_utc": .long((seconds - days * 86_400) / 3600), "weekday_utc": .long(((days % 7) + 11) % 7)]
    }

    /// An argument as a Cedar value: nil for floats, nulls, mixed lists and anything nested
    /// deeper than 8.
    static func cedarValue(_ json: LatchIdentity.JSONValue, depth: Int) -> Value? {
        guard depth < 8 else { return nil }
        switch json {
        case .string(let s): return .string(s)
        case .int(let i): return .long(i)
        case .bool(let b): return .bool(b)
        case .double, .null: return nil
        case .array(let items):
            var values = Set<Value>()
            for item in items {
                guard let value = Self.cedarValue(item, depth: depth + 1) else { return nil }
                values.insert(value)
            }
            return .set(values)
        case .object(let members): return .record(members.compactMapValues { Self.cedarValue($0, depth: depth + 1) })
        }
    }
}
