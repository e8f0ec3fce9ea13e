import LatchCore
import LatchGrants
import LatchGuard
import Yams

extension ServerConfiguration {
    /// `guard_rules`: a list of rules, each a mapping with `id`, exactly one kind key, what the
    /// rule is about, its `scope`, `action` and `reason`:
    ///
    /// ```yaml
    /// - id: mail-burst
    ///   rate: {limit: 20, window: 1m}        # or: denial_streak: 5 | after: {…}, within: 10m | novelty: true | tainted_arguments: [untrusted, sensitive]
    ///                                        #     | budget: {argument: amount, limit: 5000} | delegations: 10 | delegation_depth: 2
    ///   tools: ["mail.*"]                    # and/or sensitivity, egress, side_effects (each "at least"), content: untrusted
    ///   scope: task                          # task (default) | agent
    ///   action: deny                         # hold | deny | kill
    ///   reason: rate_limit                   # the reason code of a denial (default: budget_exceeded, fanout_cap and
    ///                                        # depth_exceeded for those kinds, else the id, with _ for anything but a-z0-9)
    /// ```
    static func parseGuardRules(_ node: Node) throws(LatchError) -> [GuardRule] {
        guard let list = node.sequence else { throw LatchError(.configuration, "guard_rules must be a list of rules") }
        var rules: [GuardRule] = []
        for item in list { rules.append(try Self.parseGuardRule(item)) }
        do {
            _ = try GuardRules(rules)
        } catch {
            throw LatchError(.configuration, "guard_rules: \(error.description)")
        }
        return rules
    }

    private static let guardKinds = ["rate", "denial_streak", "after", "novelty", "tainted_arguments", "budget", "delegations", "delegation_depth"]
    private static let guardMatchKeys = ["tools", "sensitivity", "egress", "side_effects", "content"]

    private static func parseGuardRule(_ node: Node) throws(LatchError) -> GuardRule {
        guard let mapping = node.mapping else { throw LatchError(.configuration, "guard_rules: each rule must be a mapping") }
        let known = ["id", "scope", "action", "reason", "within"] + Self.guardKinds + Self.guardMatchKeys
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string, known.contains(key) else {
                throw LatchError(.configuration, "guard_rules: unknown key \"\(keyNode.string ?? "?")\" (\(known.joined(separator: ", ")))")
            }
            fields[key] = value
        }
        guard let id = fields["id"]?.string, !id.isEmpty else { throw LatchError(.configuration, "guard_rules: each rule needs an id") }
        func context(_ message: String) -> LatchError { LatchError(.configuration, "guard rule \(id): \(message)") }
        let kinds = Self.guardKinds.filter { fields[$0] != nil }
        guard kinds.count == 1, let kindKey = kinds.first else {
            throw context("give exactly one of \(Self.guardKinds.joined(separator: ", "))")
        }
        guard fields["within"] == nil || kindKey == "after" else { throw context("within goes with after") }
        let kind: GuardRule.Kind
        switch kindKey {
        case "rate":
            guard let rate = fields["rate"]?.mapping, let limitText = rate["limit"]?.string, let limit = Int(limitText),
                let windowText = rate["window"]?.string, let window = Self.parseDuration(windowText), window > .zero, rate.count == 2
            else { throw context("rate must be {limit: N, window: DURATION}") }
            kind = .rate(limit: limit, window: Self.milliseconds(window))
        case "denial_streak":
            guard let text = fields["denial_streak"]?.string, let limit = Int(text) else { throw context("denial_streak must be a number") }
            kind = .denialStreak(limit: limit)
        case "after":
            guard let after = fields["after"] else { throw context("after must be a mapping") }
            var within: Int64?
            if let text = fields["within"]?.string {
                guard let duration = Self.parseDuration(text), duration > .zero else { throw context("within must be a positive duration") }
                within = Self.milliseconds(duration)
            } else if fields["within"] != nil {
                throw context("within must be a positive duration")
            }
            kind = .sequence(after: try Self.parseGuardMatch(after, allowingOutcome: true, context), within: within)
        case "novelty":
            guard fields["novelty"]?.string == "true" else { throw context("novelty must be true") }
            kind = .novelty
        case "budget":
            guard let budget = fields["budget"]?.mapping, budget.count == 2, let argument = budget["argument"]?.string, !argument.isEmpty,
                let limitText = budget["limit"]?.string, let limit = Double(limitText), limit.isFinite, limit >= 0
            else { throw context("budget must be {argument: NAME, limit: NUMBER}") }
            kind = .budget(argument: argument, limit: limit)
        case "delegations", "delegation_depth":
            guard let text = fields[kindKey]?.string, let limit = Int(text), limit >= 0 else { throw context("\(kindKey) must be a number") }
            kind = kindKey == "delegations" ? .delegations(limit: limit) : .delegationDepth(limit: limit)
        default:
            guard let list = fields["tainted_arguments"]?.sequence, !list.isEmpty else {
                throw context("tainted_arguments must list untrusted and/or sensitive")
            }
            var sources: TaintSources = []
            for item in list {
                switch item.string {
                case "untrusted": sources.insert(.untrusted)
                case "sensitive": sources.insert(.sensitive)
                default: throw context("tainted_arguments must list untrusted and/or sensitive")
                }
            }
            kind = .taintedArgument(sources: sources)
        }
        var matchFields: [(Node, Node)] = []
        for (keyNode, value) in node.mapping ?? [:] where Self.guardMatchKeys.contains(keyNode.string ?? "") { matchFields.append((keyNode, value)) }
        let match = try Self.parseGuardMatch(Node.mapping(Node.Mapping(matchFields)), allowingOutcome: false, context)
        let scope: GuardRule.Scope
        switch fields["scope"]?.string ?? (kind == .novelty ? "agent" : "task") {
        case "task": scope = .task
        case "agent": scope = .agent
        default: throw context("scope must be task or agent")
        }
        let action: GuardRule.Action
        switch fields["action"]?.string {
        case "hold": action = .hold
        case "deny": action = .deny
        case "kill": action = .kill
        default: throw context("action must be hold, deny or kill")
        }
        // By default the kind's code, or the ID, lowercased, with anything but letters, digits and _ as _.
        let byKind: String?
        switch kind {
        case .budget: byKind = "budget_exceeded"
        case .delegations: byKind = "fanout_cap"
        case .delegationDepth: byKind = "depth_exceeded"
        default: byKind = nil
        }
        let reason =
            fields["reason"]?.string ?? byKind
            ?? String(id.lowercased().unicodeScalars.prefix(64).map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
        guard Self.isReasonCode(reason) else { throw context("reason must be lowercase letters, digits and _") }
        return GuardRule(id: id, kind: kind, match: match, scope: scope, action: action, reason: reason)
    }

    /// `tools`, `sensitivity`, `egress`, `side_effects` (each "at least"), `content: untrusted|trusted`,
    /// and in `after` also `outcome: allowed|denied`.
    private static func parseGuardMatch(_ node: Node, allowingOutcome: Bool, _ context: (String) -> LatchError) throws(LatchError) -> GuardMatch {
        guard let mapping = node.mapping else { throw context("after must be a mapping") }
        var match = GuardMatch()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "tools":
                let names = value.sequence?.compactMap(\.string) ?? value.string.map { [$0] } ?? []
                guard !names.isEmpty, names.count == (value.sequence?.count ?? 1) else { throw context("tools must be a list of tool name patterns") }
                for name in names {
                    do { match.tools.append(try ToolPattern(parsing: name)) } catch { throw context(error.description) }
                }
            case "sensitivity":
                guard let level = value.string.flatMap(Sensitivity.init(rawValue:)) else {
                    throw context("sensitivity must be public, internal, confidential or restricted")
                }
                match.minSensitivity = level.rank
            case "egress":
                switch value.string {
                case "none": match.minEgress = GuardLabels.Egress.none
                case "internal": match.minEgress = .internal
                case "external": match.minEgress = .external
                default: throw context("egress must be none, internal or external")
                }
            case "side_effects":
                switch value.string {
                case "none": match.minSideEffects = GuardLabels.SideEffects.none
                case "write": match.minSideEffects = .write
                case "destructive": match.minSideEffects = .destructive
                default: throw context("side_effects must be none, write or destructive")
                }
            case "content":
                switch value.string {
                case "untrusted": match.untrusted = true
                case "trusted": match.untrusted = false
                default: throw context("content must be trusted or untrusted")
                }
            case "outcome" where allowingOutcome:
                switch value.string {
                case "allowed": match.allowed = true
                case "denied": match.allowed = false
                default: throw context("outcome must be allowed or denied")
                }
            default:
                throw context("unknown condition \"\(key)\" (tools, sensitivity, egress, side_effects, content\(allowingOutcome ? ", outcome" : ""))")
            }
        }
        return match
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    private static func isReasonCode(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
    }
}
