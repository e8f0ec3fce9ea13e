import ArgumentParser
import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchServer
import Logging

/// `latch audit show ID [--reveal] [--argument NAME=VALUE …] [--prompt TEXT]`
struct AuditShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one decision record as JSON; optionally reveal its sealed prompt and arguments, or test values against its keyed hashes.",
        discussion: """
            Prints {"record": RECORD}. Records hold keyed hashes (prompt_hmac, arguments_hmac, argument_hmacs) and, \
            only when the gateway keeps them, sealed copies (prompt_sealed, arguments_sealed). With --reveal, also \
            {"revealed": {"prompt", "arguments"}}: the sealed values decrypted (an operator act: it opens the ledger \
            key with the KEK, as latch audit verify does). --argument NAME=VALUE and --prompt TEXT add \
            {"matches": {"argument NAME": true|false, "prompt": true|false}}: whether the record holds that value \
            (VALUE is read as JSON when it is JSON, and as a string). These also need the KEK.
            """
    )

    @OptionGroup var server: ServerOptions
    @Argument(help: "The record's ID (the decision_id an agent was told).") var id: String
    @Flag(help: "Decrypt the record's sealed prompt and arguments.") var reveal = false
    @Option(name: .customLong("argument"), help: "NAME=VALUE: does the record hold VALUE as its argument NAME? (repeatable)")
    var arguments: [String] = []
    @Option(help: "TEXT: is the record's prompt exactly TEXT?") var prompt: String?

    func run() async throws {
        let probes = try AuditValueProbe.parse(self.arguments)
        let needsKey = self.reveal || !probes.isEmpty || self.prompt != nil
        let (id, reveal, prompt) = (self.id, self.reveal, self.prompt)
        let configuration = try self.server.configuration()
        let checks = probes
        let output: JSONValue = try await self.server.withStore { store in
            guard let record = try await LedgerRecords.record(id: id, in: store) else {
                throw LatchError(.notFound, "no decision record \(id)")
            }
            var object: [String: JSONValue] = ["record": record.json]
            guard needsKey else { return .object(object) }
            let privacy = RecordPrivacy(ledgerKey: try await AuditKeys.ledgerKey(store: store, configuration: configuration))
            if reveal {
                var revealed: [String: JSONValue] = [:]
                revealed["prompt"] = try privacy.openPrompt(of: record).map(JSONValue.string) ?? .null
                revealed["arguments"] = try privacy.openArguments(of: record) ?? .null
                object["revealed"] = .object(revealed)
            }
            var matches: [String: JSONValue] = [:]
            for check in checks { matches["argument " + check.name] = .bool(privacy.matches(record, argument: check.name, typed: check.value)) }
            if let prompt { matches["prompt"] = .bool(privacy.matches(record, prompt: prompt)) }
            if !matches.isEmpty { object["matches"] = .object(matches) }
            return .object(object)
        }
        print(output.serialized)
    }
}

/// The ledger's keys for commands that need them (`audit verify`, `audit show --reveal`,
/// `policy replay`): opened with the KEK, which these commands never create (a new KEK could not
/// open the stored keys anyway).
enum AuditKeys {
    /// The stored keys, opened with the configured KEK.
    static func open(_ stored: StoredLedgerKeys, configuration: ServerConfiguration) throws -> LedgerKeyring {
        let environment = ProcessInfo.processInfo.environment
        if configuration.kekFile == nil, environment[KeyEncryptionKey.environmentVariable] == nil, configuration.databaseURL == "sqlite",
            !FileManager.default.fileExists(atPath: configuration.dataDirectory + "/kek")
        {
            throw LatchError(.configuration, "no key-encryption key: set LATCH_KEK or kek_file (the ledger's MAC key is sealed under it)")
        }
        let kek = try StoreAccess.keyEncryptionKey(
            kekFile: configuration.kekFile, dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL,
            environment: environment, logger: .init(label: "latch.cli"))
        return try LedgerKeyring.open(stored, kek: kek)
    }

    /// The ledger's MAC key (from which the value keys derive).
    static func ledgerKey(store: any LatchStore, configuration: ServerConfiguration) async throws -> LedgerKey {
        guard let stored = try await store.ledgerKeys() else { throw LatchError(.notFound, "the ledger has no keys yet: no record was written") }
        return try Self.open(stored, configuration: configuration).mac
    }
}
