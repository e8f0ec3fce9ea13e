public import LatchGrants

/// What an operator says about a tool, in the configuration: the facts about it that scope
/// checks and policies rely on (upstream servers describe their own tools, but an agent-facing
/// description is no basis for a decision).
public struct ToolLabels: Hashable, Sendable {
    /// Where data a tool sends can go.
    public enum Egress: String, Hashable, Sendable, CaseIterable {
        /// Nowhere outside the tool itself.
        case none
        /// Systems inside the organisation.
        case `internal`
        /// Anywhere: the internet, other organisations, people's inboxes.
        case external
    }

    /// What calling a tool changes.
    public enum SideEffects: String, Hashable, Sendable, CaseIterable {
        /// Nothing: it only reads.
        case none
        /// It creates or changes something (sends a message, writes a record).
        case write
        /// It deletes or overwrites something that cannot be recovered.
        case destructive
    }

    /// The most sensitive data the tool returns (default `internal`).
    public var sensitivity: Sensitivity
    /// The data domain the tool reads (e.g. `sales`); nil: none in particular.
    public var dataDomain: String?
    public var egress: Egress
    public var sideEffects: SideEffects
    /// The argument holding where data goes (an email address, a URL, a host), if any: its value
    /// becomes the call's destination, which must be within the grant's destinations.
    public var destinationArgument: String?
    /// The tool returns content nobody vouches for (web pages, e-mail, uploaded files): text an
    /// attacker may have written (label `content: untrusted`; default trusted).
    public var untrusted: Bool

    public init(
        sensitivity: Sensitivity = .internal, dataDomain: String? = nil, egress: Egress = .none, sideEffects: SideEffects = .none,
        destinationArgument: String? = nil, untrusted: Bool = false
    ) {
        self.sensitivity = sensitivity
        self.dataDomain = dataDomain
        self.egress = egress
        self.sideEffects = sideEffects
        self.destinationArgument = destinationArgument
        self.untrusted = untrusted
    }
}
