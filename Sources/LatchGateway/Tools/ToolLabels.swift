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
    /// The arguments holding where data goes (an email address, a URL, a host; each a value or a
    /// list), in order: every value of every one of them is a destination of the call and must be
    /// within the grant's destinations, and a call must give at least one (label
    /// `destination_argument: to`, or `destination_argument: [to, cc, bcc]` for a tool that sends
    /// to several). Empty: the tool sends nowhere an agent chooses.
    public var destinationArguments: [String]
    /// The first of ``destinationArguments`` (setting it replaces them all).
    public var destinationArgument: String? {
        get { self.destinationArguments.first }
        set { self.destinationArguments = newValue.map { [$0] } ?? [] }
    }
    /// The tool returns content nobody vouches for (web pages, e-mail, uploaded files): text an
    /// attacker may have written (label `content: untrusted`; default trusted).
    public var untrusted: Bool
    /// Arguments whose values records keep as keyed hashes (`argument_hmacs`), so an investigator
    /// holding the ledger key can find calls by value (label `audit_arguments: [iban, amount]`).
    /// The destination argument is always kept so; default none more.
    public var auditArguments: [String]

    public init(
        sensitivity: Sensitivity = .internal, dataDomain: String? = nil, egress: Egress = .none, sideEffects: SideEffects = .none,
        destinationArgument: String? = nil, untrusted: Bool = false, auditArguments: [String] = [], destinationArguments: [String] = []
    ) {
        self.sensitivity = sensitivity
        self.dataDomain = dataDomain
        self.egress = egress
        self.sideEffects = sideEffects
        self.destinationArguments = (destinationArgument.map { [$0] } ?? []) + destinationArguments.filter { $0 != destinationArgument }
        self.untrusted = untrusted
        self.auditArguments = auditArguments
    }

    /// The arguments a record keeps keyed hashes of: the destination arguments and ``auditArguments``.
    public var recordedArguments: Set<String> { Set(self.auditArguments).union(self.destinationArguments) }
}
