import ArgumentParser
import LatchIdentity

/// `latch entry list [--json]`
struct EntryListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List registration entries, oldest first.")

    @OptionGroup var server: ServerOptions

    @Flag(name: .long, help: "One JSON object per line instead of a table.")
    var json = false

    func run() async throws {
        let entries = try await self.server.withStore { store in try await store.listEntries() }
        if self.json {
            for entry in entries { print(EntryOutput.json(entry).serialized) }
        } else {
            print(EntryOutput.table(entries), terminator: "")
        }
    }
}
