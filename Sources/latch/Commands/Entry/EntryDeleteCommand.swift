import ArgumentParser
import LatchIdentity

/// `latch entry delete ID`
struct EntryDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete an entry; workloads lose that SPIFFE ID at the next poll.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The entry ID.")
    var id: String

    func run() async throws {
        let id = self.id
        guard try await self.server.withStore({ store in try await store.deleteEntry(id: id) }) else {
            PolicyCommand.writeError("error: no entry \(id)")
            throw ExitCode(1)
        }
        print("deleted \(id)")
    }
}
