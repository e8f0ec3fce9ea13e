import ArgumentParser
import LatchCore
import LatchGrants
import LatchIdentity

/// `latch quarantine list|add|release`: agents kept from grants and calls (see the README's
/// "The guard"). A running server picks changes up on its next poll of the store.
struct QuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, add and release quarantined agents.",
        subcommands: [QuarantineListCommand.self, QuarantineAddCommand.self, QuarantineReleaseCommand.self]
    )

    /// A SPIFFE ID from the command line, as a usage error (exit 64) when it is not one.
    static func agent(_ text: String) throws -> SPIFFEID {
        do { return try SPIFFEID(parsing: text) } catch { throw ValidationError("the agent must be a SPIFFE ID: \(error.message)") }
    }

    /// Who acts, a reason or a note as given: 1–255 bytes (a note up to 4096), no U+0000; else a usage error.
    static func check(_ text: String?, _ what: String, max: Int = 255) throws {
        guard let text else { return }
        guard !text.isEmpty, text.utf8.count <= max, !text.utf8.contains(0) else { throw ValidationError("\(what) must be 1-\(max) bytes without U+0000") }
    }

    static func json(_ quarantine: AgentQuarantine) -> JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            "agent": .string(quarantine.agent.description), "reason": .string(quarantine.reason), "by": .string(quarantine.by),
            "since": .int(quarantine.since), "task_id": optional(quarantine.taskID), "grant_id": optional(quarantine.grantID),
            "decision_id": optional(quarantine.decisionID), "rules": .array(quarantine.rules.map(JSONValue.string)),
            "in_force": .bool(quarantine.inForce), "released_at": quarantine.releasedAt.map(JSONValue.int) ?? .null,
            "released_by": optional(quarantine.releasedBy), "note": optional(quarantine.note),
        ])
    }
}

/// `latch quarantine list [--all] [--json]`
struct QuarantineListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the agents quarantined now (with --all, released ones too), newest first.",
        discussion: "One line per agent: SPIFFE ID, since when (UTC), who quarantined it, why, and the task that tripped the kill switch."
    )

    @OptionGroup var server: ServerOptions

    @Flag(help: "Released quarantines too.")
    var all = false

    @Flag(help: "Print a JSON array (times in Unix ms) instead of lines.")
    var json = false

    func run() async throws {
        let inForceOnly = !self.all
        let quarantines = try await self.server.withStore { store in try await store.quarantines(inForceOnly: inForceOnly) }
        if self.json {
            print(JSONValue.array(quarantines.map(QuarantineCommand.json)).serialized)
            return
        }
        for quarantine in quarantines {
            var fields = [
                quarantine.agent.description, AuditOutput.iso8601(milliseconds: quarantine.since), quarantine.by, quarantine.reason,
                quarantine.taskID ?? "-",
            ]
            if let released = quarantine.releasedAt { fields.append("released \(AuditOutput.iso8601(milliseconds: released)) by \(quarantine.releasedBy ?? "?")") }
            print(fields.map(AuditOutput.printable).joined(separator: "  "))
        }
    }
}

/// The agent, who acts and their note: what `add` and `release` both take.
struct QuarantineSubject: ParsableArguments {
    @Argument(help: "The agent's SPIFFE ID.")
    var agent: String

    @Option(name: .customLong("as"), help: "Who acts: your name, kept with the quarantine.")
    var name: String

    @Option(help: "A note kept with it (e.g. why, or how the agent was re-attested).")
    var note: String?

    /// The agent as a SPIFFE ID, once every field is checked (a usage error otherwise).
    func validated() throws -> SPIFFEID {
        let agent = try QuarantineCommand.agent(self.agent)
        try QuarantineCommand.check(self.name, "--as")
        try QuarantineCommand.check(self.note, "--note", max: 4096)
        return agent
    }
}

/// `latch quarantine add SPIFFE_ID --as NAME [--reason CODE] [--note TEXT]`
struct QuarantineAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Quarantine an agent by hand: no new grant, and no call with any grant it holds, until it is released.",
        discussion: "Exit 1 if it is already quarantined (the first quarantine stands)."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var subject: QuarantineSubject

    @Option(help: "A reason code (default: operator).")
    var reason = "operator"

    func run() async throws {
        let agent = try self.subject.validated()
        try QuarantineCommand.check(self.reason, "--reason")
        let quarantine = AgentQuarantine(
            agent: agent, reason: self.reason, by: self.subject.name, since: ApprovalsCommand.now(), note: self.subject.note)
        let stored = try await self.server.withStore { store in try await store.quarantineAgent(quarantine) }
        guard stored else {
            PolicyCommand.writeError("error: \(quarantine.agent) is already quarantined; nothing was changed")
            throw ExitCode(1)
        }
        print("quarantined \(quarantine.agent): it gets no grant, and calls with its grants are denied, until `latch quarantine release`")
    }
}

/// `latch quarantine release SPIFFE_ID --as NAME [--note TEXT]`
struct QuarantineReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release a quarantined agent: it may get grants again (grants revoked by the kill switch stay revoked).",
        discussion: "Exit 1 if the agent is not quarantined."
    )

    @OptionGroup var server: ServerOptions
    @OptionGroup var subject: QuarantineSubject

    func run() async throws {
        let agent = try self.subject.validated()
        let (name, note, now) = (self.subject.name, self.subject.note, ApprovalsCommand.now())
        let released = try await self.server.withStore { store in try await store.releaseAgent(agent, by: name, note: note, now: now) }
        guard released != nil else {
            PolicyCommand.writeError("error: \(agent) is not quarantined (see latch quarantine list)")
            throw ExitCode(1)
        }
        print("released \(agent): servers let it back in on their next poll of the store")
    }
}
