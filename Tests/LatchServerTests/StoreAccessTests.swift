import Foundation
import LatchCore
import LatchIdentity
import Logging
import Testing

@testable import LatchServer

@Suite("StoreAccess: the key-encryption key")
struct StoreAccessTests {
    let logger = Logger(label: "latch.test")

    func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("latch-kek-\(UUID().uuidString)").path
    }

    @Test("without LATCH_KEK or kek_file a 0600 KEK is created once in the data directory and reused")
    func defaultFile() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try StoreAccess.keyEncryptionKey(
            kekFile: nil, dataDirectory: directory, databaseURL: "sqlite", environment: [:], logger: self.logger)
        let again = try StoreAccess.keyEncryptionKey(
            kekFile: nil, dataDirectory: directory, databaseURL: "sqlite", environment: [:], logger: self.logger)
        #expect(first.unredactedBytes == again.unredactedBytes)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/kek")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["kek"])
    }

    @Test("LATCH_KEK wins over the default file")
    func environment() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = [UInt8](repeating: 9, count: 32)
        let kek = try StoreAccess.keyEncryptionKey(
            kekFile: nil, dataDirectory: directory, databaseURL: "sqlite",
            environment: ["LATCH_KEK": Data(bytes).base64EncodedString()], logger: self.logger)
        #expect(kek.unredactedBytes == bytes)
        #expect(!FileManager.default.fileExists(atPath: directory + "/kek"))
    }

    @Test("several nodes on PostgreSQL must be given the KEK: none is generated")
    func postgresNeedsKEK() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: LatchError(.configuration, "")) {
            try StoreAccess.keyEncryptionKey(
                kekFile: nil, dataDirectory: directory, databaseURL: "postgres://u@h/db", environment: [:], logger: self.logger)
        }
    }

    @Test("a KEK file readable by others, or a symlink, is refused")
    func exposedFile() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: directory + "/kek", contents: Data(repeating: 1, count: 32), attributes: [.posixPermissions: 0o644])
        #expect(throws: LatchError(.configuration, "")) {
            try StoreAccess.keyEncryptionKey(kekFile: nil, dataDirectory: directory, databaseURL: "sqlite", environment: [:], logger: self.logger)
        }
        try FileManager.default.removeItem(atPath: directory + "/kek")
        FileManager.default.createFile(
            atPath: directory + "/planted", contents: Data(repeating: 1, count: 32), attributes: [.posixPermissions: 0o600])
        try FileManager.default.createSymbolicLink(atPath: directory + "/kek", withDestinationPath: directory + "/planted")
        #expect(throws: LatchError(.io, "")) {
            try StoreAccess.keyEncryptionKey(kekFile: nil, dataDirectory: directory, databaseURL: "sqlite", environment: [:], logger: self.logger)
        }
    }
}
