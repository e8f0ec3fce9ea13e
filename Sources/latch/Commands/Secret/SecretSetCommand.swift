import ArgumentParser
import Foundation
import LatchCore
import LatchIdentity
import LatchSecrets
import LatchServer
import Logging

/// `latch secret set NAME [--from-file PATH] [--keep-newline]`
struct SecretSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Seal a value under the key-encryption key and store it as NAME (replacing any value it had).",
        discussion: """
            The value is read from standard input (`latch secret set crm_token < token.txt`; typed \
            without echo when standard input is a terminal) or from --from-file, never from an \
            argument. One trailing newline is dropped unless --keep-newline is given. At most \
            65536 bytes. The key-encryption key is kek_file, else LATCH_KEK, else <data_dir>/kek \
            (SQLite only; created if missing), the one `latch serve` uses.
            """
    )

    @OptionGroup var server: ServerOptions

    @Argument(help: "The secret's name: 1-128 characters of [A-Za-z0-9._-].")
    var name: String

    @Option(name: .customLong("from-file"), help: "Read the value from this file instead of standard input.")
    var fromFile: String?

    @Flag(name: .customLong("keep-newline"), help: "Keep a trailing newline as part of the value.")
    var keepNewline = false

    func run() async throws {
        let name = try SecretCommand.name(self.name)
        let value = try self.readValue(name: name)
        let configuration = try self.server.configuration()
        let environment = ProcessInfo.processInfo.environment
        let created = try await self.server.withStore { store in
            let kek = try StoreAccess.keyEncryptionKey(
                kekFile: configuration.kekFile, dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL,
                environment: environment, logger: .init(label: "latch.cli"))
            return try await SecretStore(repository: store, kek: kek).set(name, to: value)
        }
        print("\(created ? "created" : "updated") \(name)")
    }

    /// The value, checked before the store is opened: bad input changes nothing.
    func readValue(name: SecretName) throws -> Redacted<[UInt8]> {
        // Room for a value of the largest size and its line ending.
        let limit = SecretSealer.maximumValueBytes + 2
        var bytes: [UInt8]
        do {
            if let path = self.fromFile {
                bytes = try readWholeFile(path: path, limit: limit)
            } else if isatty(0) == 1 {
                bytes = try TerminalInput.readHidden(prompt: "value of \(name): ", limit: limit)
            } else {
                bytes = try readAll(fd: 0, path: "standard input", limit: limit)
            }
        } catch {
            throw ValidationError(error.message)
        }
        if !self.keepNewline, bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        guard !bytes.isEmpty else { throw ValidationError("the value is empty") }
        guard bytes.count <= SecretSealer.maximumValueBytes else {
            throw ValidationError("the value is longer than \(SecretSealer.maximumValueBytes) bytes")
        }
        return Redacted(bytes)
    }
}
