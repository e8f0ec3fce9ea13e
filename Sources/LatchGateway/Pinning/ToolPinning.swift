import LatchIdentity

/// How the gateway treats a tool it has never pinned (`tool_pinning`).
public enum ToolPinningMode: String, Hashable, Sendable, CaseIterable {
    /// Trust on first use (the default): the first definition seen of a tool is accepted and
    /// served at once.
    case tofu
    /// Nothing is served until an operator accepts it: the first definition seen is pending.
    case strict
}

/// A tool an upstream lists that the gateway does not serve because its definition is not the
/// accepted one: it is not listed, and a call of it is denied with ``reason``.
public struct DisabledTool: Hashable, Sendable {
    public let tool: GatewayTool
    /// ``DenialReason/toolDefinitionChanged`` or ``DenialReason/toolDefinitionNotAccepted``.
    public let reason: DenialReason
    /// The accepted definition's digest, when the tool has one.
    public let acceptedDigest: String?

    public init(tool: GatewayTool, reason: DenialReason, acceptedDigest: String?) {
        self.tool = tool
        self.reason = reason
        self.acceptedDigest = acceptedDigest
    }
}

/// Pinning upstream tool definitions by their SHA-256 (a defence against tool poisoning and
/// "rug pulls": an upstream that changes a tool's description or schema after it was reviewed).
///
/// For each labelled tool an upstream lists, with the tool's pins:
/// - its definition is the accepted one: served (a pending definition left over is dropped: the
///   upstream went back to what was accepted);
/// - it has an accepted definition, and this is another: **disabled**
///   (``DenialReason/toolDefinitionChanged``), and this definition is recorded as pending
///   (replacing an older pending one);
/// - it has no pin at all: under ``ToolPinningMode/tofu`` this definition is pinned as accepted
///   and served, unless it carries the marks of tool poisoning (``ToolDefinitionScreen``): then it
///   is pinned as pending and the tool disabled (``DenialReason/toolDefinitionSuspicious``); under
///   ``ToolPinningMode/strict`` it is pinned as pending and the tool disabled
///   (``DenialReason/toolDefinitionNotAccepted``, or suspicious as above);
/// - it has only a pending definition (nobody accepted one yet, whatever the mode now): disabled
///   (``DenialReason/toolDefinitionNotAccepted``), the pending definition kept current.
///
/// A tool whose name or definition is too large to pin is never served.
///
/// - Important: this decides; it does not read or write. The gateway's refresh loop reads the
///   pins, calls ``decide(listed:pins:mode:now:)``, applies ``Decision/changes`` and only then
///   installs what is served. Nothing on the call path reads the store.
public enum ToolPinning {
    /// What to serve of one upstream's listing, and what to write.
    public struct Decision: Hashable, Sendable {
        /// The tools whose definition is accepted, in listing order.
        public var served: [GatewayTool] = []
        /// The tools listed but not served, in listing order.
        public var disabled: [DisabledTool] = []
        /// Pins to write, in listing order.
        public var changes: [Change] = []

        public init() {}
    }

    /// One write to the tool pins.
    public enum Change: Hashable, Sendable {
        /// ``ToolPinRepository/pinFirstDefinition(_:)``. When it returns false (another node
        /// pinned the tool meanwhile) the tool must not be served this round.
        case pinFirst(ToolPin)
        /// ``ToolPinRepository/savePendingToolPin(_:)``.
        case recordPending(ToolPin)
        /// ``ToolPinRepository/deletePendingToolPin(upstream:tool:digest:)``.
        case dropPending(upstream: String, tool: String, digest: String)
    }

    /// Decides one upstream's listing against the pins (pins of other upstreams are ignored).
    /// A tool listed twice counts once, as the catalog serves the first.
    public static func decide(listed: [GatewayTool], pins: [ToolPin], mode: ToolPinningMode, now: Int64) -> Decision {
        struct Key: Hashable {
            let upstream: String
            let tool: String
        }
        var accepted: [Key: ToolPin] = [:]
        var pending: [Key: ToolPin] = [:]
        for pin in pins {
            switch pin.status {
            case .accepted: accepted[Key(upstream: pin.upstream, tool: pin.tool)] = pin
            case .pending: pending[Key(upstream: pin.upstream, tool: pin.tool)] = pin
            }
        }
        var decision = Decision()
        var seen = Set<Key>()
        for tool in listed {
            let key = Key(upstream: tool.upstream, tool: tool.upstreamName)
            guard seen.insert(key).inserted else { continue }
            guard ToolPin.isPinnableName(tool.upstream), ToolPin.isPinnableName(tool.upstreamName),
                tool.upstreamDefinition.serializedBytes.count <= ToolPin.maximumDefinitionBytes
            else {
                decision.disabled.append(
                    DisabledTool(
                        tool: tool,
                        reason: DenialReason(
                            DenialReason.toolDefinitionNotAccepted,
                            "the definition of \(tool.name) cannot be pinned (a name over \(ToolPin.maximumNameBytes) bytes or a definition over \(ToolPin.maximumDefinitionBytes) bytes), so it is not served"
                        ), acceptedDigest: nil))
                continue
            }
            let current = accepted[key]
            let waiting = pending[key]
            if let current, current.digest == tool.digest {
                decision.served.append(tool)
                if let waiting { decision.changes.append(.dropPending(upstream: key.upstream, tool: key.tool, digest: waiting.digest)) }
                continue
            }
            // Not accepted yet: a definition with the marks of poisoning says so.
            let findings = current == nil ? ToolDefinitionScreen.findings(in: tool.upstreamDefinition) : []
            if current == nil && waiting == nil {
                switch mode {
                case .tofu where findings.isEmpty:
                    decision.served.append(tool)
                    decision.changes.append(.pinFirst(ToolPin(tool, status: .accepted, now: now)))
                case .tofu, .strict:
                    decision.disabled.append(findings.isEmpty ? Self.notAccepted(tool) : Self.suspicious(tool, findings))
                    decision.changes.append(.pinFirst(ToolPin(tool, status: .pending, now: now)))
                }
                continue
            }
            if let current {
                decision.disabled.append(
                    DisabledTool(
                        tool: tool,
                        reason: DenialReason(
                            DenialReason.toolDefinitionChanged,
                            "the upstream changed the definition of \(tool.name) since it was accepted (\(Self.shortDigest(current.digest)) → \(Self.shortDigest(tool.digest))); it is disabled until an operator accepts the new definition"
                        ), acceptedDigest: current.digest))
            } else {
                decision.disabled.append(findings.isEmpty ? Self.notAccepted(tool) : Self.suspicious(tool, findings))
            }
            if waiting?.digest != tool.digest { decision.changes.append(.recordPending(ToolPin(tool, status: .pending, now: now))) }
        }
        return decision
    }

    /// The first 12 hex digits of a digest, as logs and `latch tool list` show it.
    public static func shortDigest(_ digest: String) -> String { String(digest.prefix(12)) }

    private static func suspicious(_ tool: GatewayTool, _ findings: [ToolDefinitionScreen.Finding]) -> DisabledTool {
        let kinds = ToolDefinitionScreen.Finding.Kind.allCases.filter { kind in findings.contains { $0.kind == kind } }.map(\.rawValue)
        return DisabledTool(
            tool: tool,
            reason: DenialReason(
                DenialReason.toolDefinitionSuspicious,
                "the definition of \(tool.name) carries marks of tool poisoning (\(kinds.joined(separator: ", "))); it is held for an operator's review and disabled until accepted"
            ),
            acceptedDigest: nil)
    }

    private static func notAccepted(_ tool: GatewayTool) -> DisabledTool {
        DisabledTool(
            tool: tool,
            reason: DenialReason(
                DenialReason.toolDefinitionNotAccepted,
                "the definition of \(tool.name) has not been accepted by an operator; it is disabled until it is"),
            acceptedDigest: nil)
    }
}
