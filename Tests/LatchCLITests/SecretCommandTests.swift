import Foundation
import LatchCore
import LatchIdentity
import LatchSQLite
import LatchSecrets
import Testing

@Suite("latch secret")
struct SecretCommandTests {
    static let value = "sk-live-CLI-TEST-9f8e7d6c5b4a"

    @Test("set from stdin and from a file, list names without values, delete; the value is sealed in the store")
    func lifecycle() async throws {
        let directory = try TemporaryDirectory()
        var outputs: [String] = []
        func run(_ arguments: [String], stdin: String? = nil) async throws -> LatchProcess.Result {
            let result = try await LatchProcess.run(arguments, in: directory, stdin: stdin)
            outputs += [result.stdout, result.stderr]
            return result
        }

        let set = try await run(["secret", "set", "--data-dir", "d", "crm_token"], stdin: Self.value + "\n")
        try #require(set.status == 0, "\(set.stderr)")
        #expect(set.stdout == "created crm_token\n")
        try directory.write("rotated.txt", Self.value + "-rotated\r\n")
        let update = try await run(["secret", "set", "--data-dir", "d", "crm_token", "--from-file", "rotated.txt"])
        #expect(update.status == 0, "\(update.stderr)")
        #expect(update.stdout == "updated crm_token\n")
        await #expect(try run(["secret", "set", "--data-dir", "d", "other.key"], stdin: "x").status == 0)

        let list = try await run(["secret", "list", "--data-dir", "d"])
        #expect(list.status == 0)
        #expect(list.stdoutLines.count == 3)
        #expect(list.stdoutLines.first?.hasPrefix("NAME") == true)
        #expect(list.stdoutLines.dropFirst().map { $0.split(separator: " ").first.map(String.init) } == ["crm_token", "other.key"])
        let json = try await run(["secret", "list", "--data-dir", "d", "--json"])
        #expect(json.status == 0)
        let first = try #require(json.stdoutLines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "crm_token")
        #expect(Set(object.keys) == ["name", "created_at", "updated_at"])
        let created = try #require(object["created_at"] as? Int)
        let updated = try #require(object["updated_at"] as? Int)
        #expect(created > 0 && created <= updated)

        // The store holds the value sealed under <data_dir>/kek, one trailing newline dropped.
        let data = directory.url.appendingPathComponent("d")
        let kek = try KeyEncryptionKey(contentsOfFile: data.appendingPathComponent("kek").path)
        let opened = try await {
            let store = try SQLiteIdentityStore(dataDirectory: data.path)
            defer { try? store.close() }
            return try await SecretStore(repository: store, kek: kek).secretValue(named: SecretName(parsing: "crm_token"))
        }()
        #expect(opened?.unredacted == Array((Self.value + "-rotated").utf8))

        #expect(!outputs.contains { $0.contains(Self.value) }, "no command printed the value")
        for file in try FileManager.default.contentsOfDirectory(atPath: data.path) {
            let bytes = try Data(contentsOf: data.appendingPathComponent(file))
            #expect(bytes.range(of: Data(Self.value.utf8)) == nil, "\(file) holds the value in plaintext")
        }

        let delete = try await run(["secret", "delete", "--data-dir", "d", "crm_token"])
        #expect(delete.status == 0)
        #expect(delete.stdout == "deleted crm_token\n")
        let again = try await run(["secret", "delete", "--data-dir", "d", "crm_token"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("no secret crm_token"))
        let remaining = try await run(["secret", "list", "--data-dir", "d", "--json"])
        #expect(remaining.stdoutLines.count == 1)
        #expect(remaining.stdout.contains(#""name":"other.key""#))
    }

    @Test(
        "bad input is refused before the store is touched",
        arguments: [
            (["crm token"], Self.value, "NAME"),
            ([String(repeating: "n", count: 129)], Self.value, "NAME"),
            (["crm_token"], "", "empty"),
            (["crm_token"], "\n", "empty"),
            (["crm_token", "--from-file", "missing.txt"], "", "missing.txt"),
        ])
    func badInput(arguments: [String], stdin: String, message: String) async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(["secret", "set", "--data-dir", "d"] + arguments, in: directory, stdin: stdin)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.stderr.contains(Self.value))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("d").path))
    }

    @Test("a value over 64 KiB is refused")
    func tooLarge() async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(
            ["secret", "set", "--data-dir", "d", "big"], in: directory, stdin: String(repeating: "v", count: 65_537))
        #expect(result.status != 0)
        #expect(result.stderr.contains("65536"), "\(result.stderr)")
    }

    @Test("deleting an unknown secret exits 1")
    func deleteUnknown() async throws {
        let directory = try TemporaryDirectory()
        let result = try await LatchProcess.run(["secret", "delete", "--data-dir", "d", "never"], in: directory)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no secret never"))
    }
}
