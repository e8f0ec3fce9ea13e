import ArgumentParser
import LatchSecrets

/// `latch secret delete NAME`
struct SecretDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a secret; templates referring to it fail (and the calls needing it are denied).")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The secret's name.")
    var name: String

    func run() async throws {
        let name = try SecretCommand.name(self.name)
        guard try await self.server.withStore({ store in try await store.deleteSecret(named: name) }) else {
            PolicyCommand.writeError("error: no secret \(name)")
            throw ExitCode(1)
        }
        print("deleted \(name)")
    }
}
