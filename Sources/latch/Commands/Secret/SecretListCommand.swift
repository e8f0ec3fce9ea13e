import ArgumentParser
import Foundation
import LatchCore
import LatchIdentity
import LatchSecrets

/// `latch secret list [--json]`
struct SecretListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List secrets by name with when they were created and last set (never their values).")

    @OptionGroup var server: ServerOptions

    @Flag(name: .long, help: "One JSON object per line ({name, created_at, updated_at}, milliseconds) instead of a table.")
    var json = false

    func run() async throws {
        let secrets = try await self.server.withStore { store in try await store.listSecrets() }
        if self.json {
            for secret in secrets {
                let object: JSONValue = .object([
                    "name": .string(secret.name.text), "created_at": .int(secret.createdAt), "updated_at": .int(secret.updatedAt),
                ])
                print(object.serialized)
            }
        } else {
            print(Self.table(secrets), terminator: "")
        }
    }

    static func table(_ secrets: [SecretMetadata]) -> String {
        let rows = [["NAME", "CREATED", "UPDATED"]] + secrets.map { [$0.name.text, Self.time($0.createdAt), Self.time($0.updatedAt)] }
        let widths = (0..<2).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<2).map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ") + "  " + row[2] + "\n"
        }.joined()
    }

    /// `2026-01-31T12:00:00Z` (UTC, whole seconds).
    static func time(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
