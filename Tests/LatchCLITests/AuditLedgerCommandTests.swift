import Foundation
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchSQLite
import LatchServer
import LatchTesting
import Logging
import Testing

@Suite("latch audit verify and prove")
struct AuditLedgerCommandTests {
    /// Ten records in the SQLite store of `<directory>/d` appended with the ledger keys the
    /// server would create (KEK in `d/kek`), and a signed checkpoint of all of them.
    @discardableResult
    static func writeLedger(
        in directory: TemporaryDirectory, databaseURL: String = "sqlite", kekFile: String? = nil
    ) async throws -> [StoredCheckpoint] {
        let data = directory.url.appendingPathComponent("d").path
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let kek = try StoreAccess.keyEncryptionKey(
            kekFile: kekFile, dataDirectory: data, databaseURL: databaseURL, environment: [:], logger: logger)
        return try await StoreAccess.withStore(databaseURL: databaseURL, dataDirectory: data, logger: logger) { store in
            let keys = try await LedgerKeyring.loadOrCreate(
                store: store, kek: kek, keyName: LedgerKeyring.keyName(trustDomain: TestKeys.trustDomain), clock: TestWallClock())
            let checkpointer = LedgerCheckpointer(repository: store, signer: keys.signer, clock: TestWallClock())
            var checkpoints: [StoredCheckpoint] = []
            for batch in [0..<3, 3..<4, 4..<10] {
                let records = batch.map { index in
                    ConformanceValues.decisionRecord("r\(index)", time: ConformanceValues.recordTime + Int64(index), tool: "tool.\(index)")
                }
                try await store.saveDecisionRecords(records, ledgerKey: keys.mac)
                if let checkpoint = try await checkpointer.checkpoint() { checkpoints.append(checkpoint) }
            }
            return checkpoints
        }
    }

    static func verify(_ directory: TemporaryDirectory, _ extra: [String] = []) async throws -> (LatchProcess.Result, JSONValue?) {
        let result = try await LatchProcess.run(["audit", "verify", "--data-dir", "d", "--json"] + extra, in: directory)
        return (result, JSONValue(parsing: result.stdout.utf8))
    }

    @Test("verify passes an untouched ledger, from scratch and from a trusted checkpoint; text and JSON")
    func untouched() async throws {
        let directory = try TemporaryDirectory()
        let checkpoints = try await Self.writeLedger(in: directory)
        #expect(checkpoints.map(\.size) == [3, 4, 10])
        let (result, json) = try await Self.verify(directory)
        try #require(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(json?["valid"] == .bool(true) && json?["leaves"] == .int(10) && json?["checkpoints_checked"] == .int(3))
        let trusted = try directory.write("trusted.note", checkpoints[0].note)
        let from = try await Self.verify(directory, ["--from", trusted])
        #expect(from.0.status == 0 && from.1?["checkpoints_checked"] == .int(4))
        let text = try await LatchProcess.run(["audit", "verify", "--data-dir", "d"], in: directory)
        #expect(text.status == 0 && text.stdout.hasPrefix("ledger ok: 10 leaves, root "))

        // Without its KEK the MAC key does not open, and verify creates no KEK of its own.
        try FileManager.default.removeItem(at: directory.url.appendingPathComponent("d/kek"))
        let noKEK = try await LatchProcess.run(["audit", "verify", "--data-dir", "d"], in: directory)
        #expect(noKEK.status == 1 && noKEK.stderr.contains("no key-encryption key"), "\(noKEK.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("d/kek").path))
    }

    @Test("verify names the exact first bad index of every kind of tampering with the SQLite file", arguments: LedgerTampering.all)
    func tampering(_ tampering: LedgerTampering) async throws {
        let directory = try TemporaryDirectory()
        try await Self.writeLedger(in: directory)
        let statements = JSONValue.array(tampering.statements(.sqlite).map(JSONValue.string))
        let run = try InteropScripts.run(
            "sqlite_tamper.py", [directory.url.appendingPathComponent("d/latch.sqlite").path], input: statements.serializedBytes)
        try #require(run.status == 0)
        let (result, json) = try await Self.verify(directory)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(json?["valid"] == .bool(false))
        #expect(json?["first_bad_index"] == .int(tampering.firstBadIndex), "\(result.stdout)")
        #expect(json?["problems"]?.arrayValue?.first?["kind"] == .string(tampering.kind.rawValue), "\(result.stdout)")
        let text = try await LatchProcess.run(["audit", "verify", "--data-dir", "d"], in: directory)
        #expect(text.status == 1 && text.stdout.hasPrefix("ledger damaged: first bad index \(tampering.firstBadIndex)\n"))
    }

    @Test("prove prints inclusion and consistency proofs the independent Python verifier accepts")
    func prove() async throws {
        let directory = try TemporaryDirectory()
        try await Self.writeLedger(in: directory)
        for (index, size, fromSize) in [(0, nil, nil), (9, nil, 3), (2, 3, nil), (3, 4, 3), (7, 10, 4)] as [(Int, Int?, Int?)] {
            var arguments = ["audit", "prove", String(index), "--data-dir", "d"]
            if let size { arguments += ["--size", String(size)] }
            if let fromSize { arguments += ["--from-size", String(fromSize)] }
            let proved = try await LatchProcess.run(arguments, in: directory)
            try #require(proved.status == 0, "\(proved.stderr)")
            let output = try #require(JSONValue(parsing: proved.stdout.utf8))
            let leaf = try #require(output["inclusion"]?["leaf"]?.stringValue.flatMap { Base64URL.decodeStandard($0) })
            #expect(try DecisionRecord(json: try #require(JSONValue(parsing: leaf))).id == "r\(index)")
            let checked = try InteropScripts.run("ledger_verify.py", input: Array(proved.stdout.utf8))
            let answer = try #require(JSONValue(parsing: checked.output))
            #expect(checked.status == 0, "index \(index): \(answer)")
            #expect(answer["inclusion"] == .bool(true))
            #expect(answer["size"] == .int(Int64(size ?? 10)))
            if fromSize != nil { #expect(answer["consistency"] == .bool(true)) }
        }
        let outside = try await LatchProcess.run(["audit", "prove", "3", "--size", "3", "--data-dir", "d"], in: directory)
        #expect(outside.status == 1 && outside.stderr.contains("index 3 is not in the checkpoint of size 3"))
    }

    @Test(
        "verify and prove work against PostgreSQL (--database-url, the KEK from kek_file)",
        .enabled(if: ProcessInfo.processInfo.environment["LATCH_TEST_POSTGRES_URL"].map { !$0.isEmpty } ?? false))
    func postgres() async throws {
        let directory = try TemporaryDirectory()
        let base = try #require(ProcessInfo.processInfo.environment["LATCH_TEST_POSTGRES_URL"])
        let url = base + (base.contains("?") ? "&" : "?") + "schema=ledger_cli_\(UInt32.random(in: 0..<UInt32.max))"
        let kek = directory.url.appendingPathComponent("kek").path
        try Data(KeyEncryptionKey.generate().unredactedBytes).write(to: URL(fileURLWithPath: kek))
        let checkpoints = try await Self.writeLedger(in: directory, databaseURL: url, kekFile: kek)
        #expect(checkpoints.last?.size == 10)
        let config = try directory.write("latch.yaml", "kek_file: \(kek)\n")
        let verified = try await LatchProcess.run(["audit", "verify", "--config", config, "--database-url", url, "--json"], in: directory)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(JSONValue(parsing: verified.stdout.utf8)?["leaves"] == .int(10))
        let proved = try await LatchProcess.run(["audit", "prove", "6", "--database-url", url, "--from-size", "4"], in: directory)
        try #require(proved.status == 0, "\(proved.stderr)")
        let checked = try InteropScripts.run("ledger_verify.py", input: Array(proved.stdout.utf8))
        #expect(checked.status == 0, "\(String(decoding: checked.output, as: UTF8.self))")
        let unsealed = try await LatchProcess.run(["audit", "verify", "--database-url", url], in: directory)
        #expect(unsealed.status != 0, "without the KEK the MAC key cannot be opened")
    }
}
