import ArgumentParser
import LatchCore
import LatchGrants
import LatchIdentity

/// `latch grant …`: task grants in the store the configuration names. `revoke` and `complete`
/// write revocations; a running server loads them within `entry_poll_interval` (its own
/// endpoints, `/revoke` and `/complete`, take effect on that node at once).
struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "List, show, revoke and complete task grants.",
        subcommands: [GrantListCommand.self, GrantShowCommand.self, GrantRevokeCommand.self, GrantCompleteCommand.self]
    )
}

/// `latch grant list`
struct GrantListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List grants, newest first (unexpired only unless --all).")

    @OptionGroup var server: ServerOptions
    @Flag(help: "Include expired grants (until the sweeper deletes them).") var all = false
    @Option(help: "At most this many grants.") var limit = 100
    @Flag(help: "Print JSON lines instead of a table.") var json = false

    func run() async throws {
        guard self.limit > 0 else { throw ValidationError("--limit must be positive") }
        let (all, limit) = (self.all, self.limit)
        let now = SystemWallClock().now().milliseconds
        let listed = try await self.server.withStore { store in
            let grants = try await store.listGrants(activeAt: all ? nil : now, limit: limit)
            return try await GrantOutput.withStatus(grants, store: store, now: now)
        }
        if self.json {
            for (grant, status) in listed { print(GrantOutput.json(grant, status: status).serialized) }
        } else {
            print(GrantOutput.table(listed), terminator: "")
        }
    }
}

/// `latch grant show ID`
struct GrantShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a grant, its task and the task's delegation tree as JSON.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "The grant ID (jti).") var id: String

    func run() async throws {
        let id = self.id
        let now = SystemWallClock().now().milliseconds
        let shown: JSONValue? = try await self.server.withStore { store in
            guard let grant = try await store.grant(id: id) else { return nil }
            let family = try await GrantOutput.withStatus(try await store.grants(taskID: grant.taskID), store: store, now: now)
            let status = family.first { $0.0.id == id }?.1 ?? "unknown"
            var object = GrantOutput.json(grant, status: status).objectValue ?? [:]
            if let task = try await store.task(id: grant.taskID) { object["task"] = GrantOutput.json(task) }
            object["delegation_tree"] = GrantOutput.tree(family)
            return .object(object)
        }
        guard let shown else {
            PolicyCommand.writeError("error: no grant \(id)")
            throw ExitCode(1)
        }
        print(shown.serialized)
    }
}

/// `latch grant revoke ID`
struct GrantRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a grant and every grant delegated from it.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "The grant ID (jti).") var id: String

    func run() async throws {
        try await GrantOutput.revoke(self.id, reason: .revoked, options: self.server)
    }
}

/// `latch grant complete ID`
struct GrantCompleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete", abstract: "End a task (by task ID or grant ID): its grant and every grant delegated from it are revoked.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "A task ID, or a grant ID to end that part of the task.") var id: String

    func run() async throws {
        try await GrantOutput.revoke(self.id, reason: .completed, options: self.server)
    }
}
