import ArgumentParser
import LatchCore
import LatchGateway

/// `latch operator add|list|remove`: the people who decide approvals through the admin API and
/// its page (`/admin/`), each with a random bearer token of which only a SHA-256 is stored.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Add, list and remove the operators who decide approvals through the admin API.",
        subcommands: [OperatorAddCommand.self, OperatorListCommand.self, OperatorRemoveCommand.self]
    )

    static func name(_ text: String) throws -> String {
        do { try Approval.validateDecider(text, note: nil) } catch { throw ValidationError(error.message) }
        return text
    }
}

/// `latch operator add NAME`
struct OperatorAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an operator and print their bearer token, once (only its SHA-256 is stored).",
        discussion: "Exit 1 if an operator of that name exists (remove it first to issue a new token)."
    )

    @OptionGroup var server: ServerOptions
    @Argument(help: "The operator's name, kept as who decided each approval.") var name: String

    func run() async throws {
        let name = try OperatorCommand.name(self.name)
        let token = Operator.newToken()
        let added = Operator(name: name, tokenSHA256: Operator.digest(token), createdAt: ApprovalsCommand.now())
        guard try await self.server.withStore({ store in try await store.addOperator(added) }) else {
            PolicyCommand.writeError("error: an operator named \(AuditOutput.printable(name)) exists (latch operator remove it first)")
            throw ExitCode(1)
        }
        print(token)
    }
}

/// `latch operator list`
struct OperatorListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List operators: name and when they were added (UTC).")

    @OptionGroup var server: ServerOptions

    func run() async throws {
        let operators = try await self.server.withStore { store in try await store.operators() }
        for entry in operators {
            print(AuditOutput.printable(entry.name) + "  " + AuditOutput.iso8601(milliseconds: entry.createdAt))
        }
    }
}

/// `latch operator remove NAME`
struct OperatorRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove an operator: their token stops working at once.", discussion: "Exit 1 if there is no such operator.")

    @OptionGroup var server: ServerOptions
    @Argument(help: "The operator's name.") var name: String

    func run() async throws {
        let name = try OperatorCommand.name(self.name)
        guard try await self.server.withStore({ store in try await store.removeOperator(name: name) }) else {
            PolicyCommand.writeError("error: no operator named \(AuditOutput.printable(name))")
            throw ExitCode(1)
        }
        print("removed \(AuditOutput.printable(name))")
    }
}
