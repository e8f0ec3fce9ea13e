import ArgumentParser
import LatchIdentity

/// `latch entry show ID`
struct EntryShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print one entry as JSON.")

    @OptionGroup var server: ServerOptions

    @Argument(help: "The entry ID.")
    var id: String

    func run() async throws {
        let id = self.id
        guard let entry = try await self.server.withStore({ store in try await store.entry(id: id) }) else {
            PolicyCommand.writeError("error: no entry \(id)")
            throw ExitCode(1)
        }
        print(EntryOutput.json(entry).serialized)
    }
}
