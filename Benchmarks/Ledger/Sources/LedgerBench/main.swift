// The ledger's costs, side by side in one run (release build; not run in CI).
//
// 1. Durable appends per wall-clock second through the gateway's path: `BENCH_WRITERS` (default
//    64) concurrent callers of `StoreDecisionRecorder.record` (GroupCommit batching into
//    `saveDecisionRecords`: next ledger index, leaf hash and MAC per record, one transaction per
//    batch), against plain single-row INSERTs of the same rows into the same table of the same
//    SQLite store (`synchronous=FULL`, WAL, its indexes), one transaction per row, with the same
//    callers. Rounds interleave; medians reported.
// 2. `verify` (LedgerVerifier: every leaf hash recomputed, every MAC, the index sequence, the
//    tree, the checkpoint) over `BENCH_LEDGER_SIZE` (default 1,000,000) records, in a store built
//    once in `BENCH_LEDGER_DIR` (default a directory under /tmp kept between runs).
// 3. Inclusion and consistency proofs at that size from the store, as `latch audit prove` makes
//    them: the leaf hashes read, then the proof computed and checked against the checkpoint.
import Crypto
import Foundation
import GRDB
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchSQLite

let environment = ProcessInfo.processInfo.environment
let writers = Int(environment["BENCH_WRITERS"] ?? "") ?? 64
let perRound = Int(environment["BENCH_APPENDS"] ?? "") ?? 4_000
// Plain INSERTs pay an fsync each: fewer of them keep a round short (rates are per second either way).
let plainPerRound = Int(environment["BENCH_PLAIN_APPENDS"] ?? "") ?? 500
let rounds = Int(environment["BENCH_ROUNDS"] ?? "") ?? 3
let ledgerSize = Int(environment["BENCH_LEDGER_SIZE"] ?? "") ?? 1_000_000
let ledgerDirectory = environment["BENCH_LEDGER_DIR"] ?? FileManager.default.temporaryDirectory.appendingPathComponent("latch-ledger-bench-\(ledgerSize)").path

/// The ledger's MAC and checkpoint keys for a benchmark store: kept in plain files beside it (a
/// server seals them under the KEK; sealing is not what is measured), so a kept store reopens.
struct BenchKeys {
    let mac: LedgerKey
    let signer: CheckpointSigner

    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let macPath = directory + "/bench-mac.key"
        let signingPath = directory + "/bench-checkpoint.key"
        if let mac = FileManager.default.contents(atPath: macPath), let signing = FileManager.default.contents(atPath: signingPath) {
            self.mac = try LedgerKey(bytes: Array(mac))
            self.signer = try CheckpointSigner(keyName: "bench.test/latch/ledger", privateKey: try P256.Signing.PrivateKey(rawRepresentation: signing))
        } else {
            self.mac = LedgerKey.generate()
            let signing = P256.Signing.PrivateKey()
            self.signer = try CheckpointSigner(keyName: "bench.test/latch/ledger", privateKey: signing)
            try Data(self.mac.unredactedBytes).write(to: URL(fileURLWithPath: macPath))
            try signing.rawRepresentation.write(to: URL(fileURLWithPath: signingPath))
        }
    }
}

/// Runs `body` with a SQLite store in `directory` (created if needed), closed afterwards.
func withSQLite<Result>(_ directory: String, _ body: (SQLiteIdentityStore) async throws -> Result) async throws -> Result {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let store = try SQLiteIdentityStore(dataDirectory: directory)
    defer { try? store.close() }
    return try await body(store)
}

func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
func fmt(_ x: Double) -> String { String(Int(x.rounded())) }

/// A record the size the gateway writes for a tool call's decision (keyed hashes, the decision's
/// facts, a policy, a trace ID).
func record(_ id: String, time: Int64) -> DecisionRecord {
    DecisionRecord(
        id: id, time: time, taskID: "task-\(id.hashValue & 0xFF)", grantID: "grant-\(id.hashValue & 0xFFF)",
        agent: "spiffe://bench.test/agents/a\(id.hashValue & 7)", subject: "spiffe://bench.test/agents/a", actors: [], method: "tools/call",
        tool: "crm.lookup", argumentsHMAC: String(repeating: "ab", count: 32), argumentHMACs: ["customer": String(repeating: "ef", count: 32)],
        promptHMAC: String(repeating: "cd", count: 32), allowed: true, policies: ["agents-call-tools"], upstreamOutcome: "forwarded",
        traceID: String(repeating: "4b", count: 16), latencyMicros: 812,
        facts: DecisionFacts(calls: 3, toolsUsed: ["crm.lookup", "files.read"], maxSensitivityRead: .internal, dataDomainsRead: ["crm"], secondsSinceFirstCall: 4))
}

/// `count` operations by `writers` concurrent tasks; operations per wall-clock second.
func throughput(_ count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let start = seconds()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<writers {
            group.addTask {
                var i = worker
                while i < count {
                    try await operation(i)
                    i += writers
                }
            }
        }
        try await group.waitForAll()
    }
    return Double(count) / (seconds() - start)
}

// MARK: 1. Appends

let appendDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("latch-ledger-appends-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: appendDirectory) }
let (ledgerRates, plainRates) = try await withSQLite(appendDirectory) { store in
    let keys = try BenchKeys(directory: appendDirectory)
    let recorder = StoreDecisionRecorder(repository: store, ledgerKey: keys.mac)
    // A second pool on the same file for the plain INSERTs, with the store's durability.
    var configuration = Configuration()
    configuration.busyMode = .timeout(30)
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let plain = try DatabasePool(path: appendDirectory + "/" + SQLiteIdentityStore.fileName, configuration: configuration)
    defer { try? plain.close() }
    var ledgerRates: [Double] = []
    var plainRates: [Double] = []
    let now = SystemWallClock().now().milliseconds
    for round in 0..<rounds {
        let ledgerRecords = (0..<perRound).map { record("l\(round)-\($0)", time: now + Int64($0)) }
        ledgerRates.append(try await throughput(perRound) { i in try await recorder.record(ledgerRecords[i]) })
        let plainRecords = (0..<plainPerRound).map { record("p\(round)-\($0)", time: now + Int64($0)) }
        plainRates.append(
            try await throughput(plainPerRound) { i in
                let r = plainRecords[i]
                let json = r.json.serialized
                try await plain.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO decision_records (id, time, task_id, grant_id, agent, tool, allowed, reason, trace_id, record)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [r.id, r.time, r.taskID, r.grantID, r.agent, r.tool, r.allowed ? 1 : 0, r.reason, r.traceID, json])
                }
            })
        print("round \(round + 1)/\(rounds): ledger \(fmt(ledgerRates.last ?? 0))/s, plain \(fmt(plainRates.last ?? 0))/s")
    }
    return (ledgerRates, plainRates)
}
print("")
print("Durable appends, SQLite (synchronous=FULL, WAL), \(writers) concurrent writers, median of \(rounds) rounds")
print(pad("plain single-row INSERT, one commit per row", 58) + pad(fmt(median(plainRates)) + "/s", 12))
print(
    pad("ledger append (GroupCommit + saveDecisionRecords)", 58) + pad(fmt(median(ledgerRates)) + "/s", 12)
        + String(format: "%.1f× plain", median(ledgerRates) / median(plainRates)))

// MARK: 2. Verify over a large ledger

try await withSQLite(ledgerDirectory) { store in
    let keys = try BenchKeys(directory: ledgerDirectory)
    var size = Int(try await store.ledgerSize())
    if size < ledgerSize {
        print("")
        print("building a ledger of \(ledgerSize) records in \(ledgerDirectory) (once; kept for later runs) …")
        let start = seconds()
        let now = SystemWallClock().now().milliseconds
        while size < ledgerSize {
            let batch = (size..<min(size + 2_048, ledgerSize)).map { record("v\($0)", time: now + Int64($0)) }
            try await store.saveDecisionRecords(batch, ledgerKey: keys.mac)
            size += batch.count
        }
        print(String(format: "built in %.1f s", seconds() - start))
    }
    let checkpointer = LedgerCheckpointer(repository: store, signer: keys.signer, clock: SystemWallClock())
    _ = try await checkpointer.checkpoint()

    print("")
    let verifier = LedgerVerifier(repository: store, key: keys.mac, checkpointVerifier: keys.signer.verifier)
    var times: [Double] = []
    for _ in 0..<3 {
        let start = seconds()
        let result = try await verifier.verify()
        times.append(seconds() - start)
        guard result.isValid, result.leaves == Int64(size) else { fatalError("the benchmark ledger does not verify: \(result.problems.first.map(String.init(describing:)) ?? "")") }
    }
    print(
        "verify over \(size) records (median of 3): " + String(format: "%.2f s, %@ records/s", median(times), fmt(Double(size) / median(times))))

    // MARK: 3. Proofs at that size, from the store
    guard let latest = try await store.latestCheckpoint() else { fatalError("no checkpoint") }
    let checkpoint = try keys.signer.verifier.verify(note: latest.note)
    var readTimes: [Double] = []
    var leaves: [[UInt8]] = []
    for _ in 0..<3 {
        let start = seconds()
        leaves = []
        leaves.reserveCapacity(size)
        while leaves.count < size {
            let page = try await store.ledgerLeafHashes(from: Int64(leaves.count), limit: LedgerVerifier.pageSize)
            guard !page.isEmpty else { break }
            leaves += page.map(\.hash)
        }
        readTimes.append(seconds() - start)
    }
    let proofs = Int(environment["BENCH_PROOFS"] ?? "") ?? 10
    var inclusionTimes: [Double] = []
    var consistencyTimes: [Double] = []
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<proofs {
        let index = Int.random(in: 0..<size, using: &generator)
        var start = seconds()
        guard let proof = MerkleTree.inclusionProof(index: index, leaves: leaves) else { fatalError("no inclusion proof") }
        inclusionTimes.append(seconds() - start)
        guard
            MerkleTree.verifyInclusion(
                leafHash: leaves[index], index: Int64(index), treeSize: checkpoint.size, proof: proof, rootHash: checkpoint.rootHash)
        else { fatalError("inclusion proof does not verify") }
        let oldSize = Int.random(in: 1..<size, using: &generator)
        start = seconds()
        guard let consistency = MerkleTree.consistencyProof(oldSize: oldSize, leaves: leaves) else { fatalError("no consistency proof") }
        consistencyTimes.append(seconds() - start)
        let oldRoot = MerkleTree.rootHash(leaves[0..<oldSize])
        guard
            MerkleTree.verifyConsistency(
                oldSize: Int64(oldSize), newSize: checkpoint.size, oldRoot: oldRoot, newRoot: checkpoint.rootHash, proof: consistency)
        else { fatalError("consistency proof does not verify") }
    }
    print("")
    print("proofs at \(size) leaves (median of \(proofs), each checked against the signed checkpoint)")
    print(pad("read every leaf hash from the store (once per prove)", 58) + String(format: "%.0f ms", median(readTimes) * 1e3))
    print(pad("inclusion proof, computed from the leaf hashes", 58) + String(format: "%.0f µs", median(inclusionTimes) * 1e6))
    print(pad("consistency proof, computed from the leaf hashes", 58) + String(format: "%.0f µs", median(consistencyTimes) * 1e6))
}
