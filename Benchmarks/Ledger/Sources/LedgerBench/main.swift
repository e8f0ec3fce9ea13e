// The ledger's costs, side by side in one run (release build; not run in CI).
//
// 1. Durable appends per wall-clock second through the gateway's path: `BENCH_WRITERS` (default
//    64) concurrent callers of `StoreDecisionRecorder.record` (GroupCommit batching into
//    `saveDecisionRecords`: next ledger index, leaf hash and MAC per record, one transaction per
//    batch), against plain single-row INSERTs of the same rows into the same table of the same
//    SQLite store (`synchronous=FULL`, WAL, its indexes), one transaction per row, with the same
//    callers. Rounds interleave; medians reported. With LATCH_BENCH_POSTGRES_URL (or
//    LATCH_TEST_POSTGRES_URL) the same side by side on PostgreSQL, in a fresh schema. In the same
//    rounds, the two bounds the ledger's rate sits under: the store alone (the same rows, made
//    beforehand, written from one task in transactions the size of that round's ledger batches,
//    no Latch work) and Latch alone (the recorder's whole path into a repository that stores
//    nothing).
// 2. `verify` (LedgerVerifier: every leaf hash recomputed, every MAC, the index sequence, the
//    tree, the checkpoint) over `BENCH_LEDGER_SIZE` (default 1,000,000) records, in a store built
//    once in `BENCH_LEDGER_DIR` (default a directory under /tmp kept between runs).
// 3. Inclusion and consistency proofs at that size from the store, as `latch audit prove` makes
//    them: the leaf hashes read, then the proof computed and checked against the checkpoint.
import Crypto
import Foundation
import GRDB
import GRDBSQLite
import LatchAudit
import LatchCore
import LatchGateway
import LatchIdentity
import LatchPostgres
import LatchSQLite
import LatchStoreSupport
import Logging
import PostgresNIO
import Synchronization

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

/// How record and trace IDs are made: `ordered` (default) as the gateway makes them
/// (`TimeOrderedID`: the time first), `random` as it did before (128 random bits in hex, for
/// both), to measure what the order is worth on the same build.
let randomIDs = environment["BENCH_IDS"] == "random"

func hex128() -> String { TimeOrderedID.hex(UInt64.random(in: .min ... .max)) + TimeOrderedID.hex(UInt64.random(in: .min ... .max)) }

/// One of the `writers` agent sessions the appends come from: its own task and root grant (IDs
/// as `GrantAuthority` makes them), one of eight agents.
struct Session {
    let taskID: String
    let grantID: String
    let agent: String

    static func all(_ count: Int, now: Int64) -> [Session] {
        (0..<count).map {
            Session(
                taskID: TimeOrderedID.make(now: now), grantID: TimeOrderedID.make(now: now), agent: "spiffe://bench.test/agents/a\($0 % 8)")
        }
    }
}

let tools = ["crm.lookup", "files.read", "files.write", "web.fetch"]

/// A record the size the gateway writes for a tool call's decision (keyed hashes, the decision's
/// facts, a policy), made as the gateway makes it at `time`: the record ID and a new trace ID
/// (a call without `traceparent`) per call, the session's task, grant and agent.
func record(session: Session, call: Int, time: Int64) -> DecisionRecord {
    DecisionRecord(
        id: randomIDs ? hex128() : TimeOrderedID.make(now: time), time: time, taskID: session.taskID, grantID: session.grantID,
        agent: session.agent, subject: "spiffe://bench.test/agents/a", actors: [], method: "tools/call",
        tool: tools[call % tools.count], argumentsHMAC: String(repeating: "ab", count: 32), argumentHMACs: ["customer": String(repeating: "ef", count: 32)],
        promptHMAC: String(repeating: "cd", count: 32), allowed: true, policies: ["agents-call-tools"], upstreamOutcome: "forwarded",
        traceID: randomIDs ? hex128() : TimeOrderedID.traceID(now: time), latencyMicros: 812,
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

/// CPU time of this process, seconds.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The PostgreSQL postmaster's process ID (first line of the data directory's `postmaster.pid`):
/// when set, the server's CPU (the postmaster and its children) is read around each phase.
let postgresPID = environment["BENCH_POSTGRES_PID"].flatMap { Int32($0) }

/// CPU seconds of `pid` and its children, live (`utime + stime` of each) and reaped (the parent's
/// `cutime + cstime`), from `/proc`; nil without `/proc`. Clock ticks: accurate to 10 ms a process.
func processTreeCPUSeconds(_ pid: Int32) -> Double? {
    func fields(_ statPath: String) -> [Substring]? {
        guard let text = try? String(contentsOfFile: statPath, encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state, ppid, …; utime is field 14 of the line, so index 11 here.
        return text[text.index(after: close)...].split(separator: " ")
    }
    func ticks(_ f: [Substring], _ indices: [Int]) -> Double { indices.reduce(0) { $0 + (Double(f[$1]) ?? 0) } }
    guard let own = fields("/proc/\(pid)/stat"), own.count > 14 else { return nil }
    var total = ticks(own, [11, 12, 13, 14])
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries where entry.first?.isNumber == true {
        guard let f = fields("/proc/\(entry)/stat"), f.count > 14, Int32(f[1]) == pid else { continue }
        total += ticks(f, [11, 12, 13, 14])
    }
    return total / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// One side's rounds: rates (per wall-clock second) and CPU per record (this process; the
/// database server's when it is measured).
struct Side {
    var rates: [Double] = []
    var cpu: [Double] = []
    var serverCPU: [Double] = []

    mutating func measure(_ count: Int, server: Int32?, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws {
        let cpuStart = cpuSeconds()
        let serverStart = server.flatMap(processTreeCPUSeconds)
        self.rates.append(try await throughput(count, operation))
        self.cpu.append((cpuSeconds() - cpuStart) * 1e6 / Double(count))
        if let serverStart, let serverEnd = server.flatMap(processTreeCPUSeconds) {
            self.serverCPU.append((serverEnd - serverStart) * 1e6 / Double(count))
        }
    }

    /// Batches written one after another (the store alone): records per wall-clock second.
    mutating func measure(batches: [[PreparedRow]], server: Int32?, _ write: @Sendable ([PreparedRow]) async throws -> Void) async throws {
        let count = batches.reduce(0) { $0 + $1.count }
        let cpuStart = cpuSeconds()
        let serverStart = server.flatMap(processTreeCPUSeconds)
        let start = seconds()
        for batch in batches { try await write(batch) }
        self.rates.append(Double(count) / (seconds() - start))
        self.cpu.append((cpuSeconds() - cpuStart) * 1e6 / Double(count))
        if let serverStart, let serverEnd = server.flatMap(processTreeCPUSeconds) {
            self.serverCPU.append((serverEnd - serverStart) * 1e6 / Double(count))
        }
    }

    var summary: String {
        var text = pad(fmt(median(self.rates)) + "/s", 10) + " (rounds " + fmt(self.rates.min() ?? 0) + "–" + fmt(self.rates.max() ?? 0) + "), "
            + fmt(median(self.cpu)) + " µs CPU/record"
        if !self.serverCPU.isEmpty { text += " + server " + fmt(median(self.serverCPU)) + " µs" }
        return text
    }
}

/// The store, counting the batches GroupCommit hands it (how many commits the appends paid).
final class CountingRepository: DecisionRecordRepository {
    let store: any DecisionRecordRepository
    let counts = Mutex((batches: 0, records: 0))

    init(_ store: any DecisionRecordRepository) { self.store = store }

    func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws {
        try await self.store.saveDecisionRecords(records, ledgerKey: ledgerKey)
        self.counts.withLock { $0 = ($0.batches + 1, $0.records + records.count) }
    }

    func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] {
        try await self.store.decisionRecords(taskID: taskID, limit: limit)
    }

    /// Records per batch so far.
    var meanBatch: Double { self.counts.withLock { $0.batches == 0 ? 0 : Double($0.records) / Double($0.batches) } }
}

/// Latch alone: a repository that stores nothing but computes each record's MAC at the next
/// index, as a store does inside its transaction. The recorder's rate into it is what Latch's
/// own work (records made, canonical JSON, leaf hashes, group commit, MACs) allows.
final class NothingStored: DecisionRecordRepository {
    let head = Mutex(Int64(0))
    let sink = Mutex(UInt8(0))

    func saveDecisionRecords(_ records: [EncodedDecisionRecord], ledgerKey: LedgerKey) async throws {
        let start = self.head.withLock { head in
            defer { head += Int64(records.count) }
            return head
        }
        var fold: UInt8 = 0
        for (offset, record) in records.enumerated() { fold ^= ledgerKey.mac(index: start + Int64(offset), leafHash: record.leafHash)[0] }
        self.sink.withLock { $0 ^= fold }
    }

    func decisionRecords(taskID: String?, limit: Int) async throws -> [DecisionRecord] { [] }
}

/// A row for the store alone, made before it is timed: the record, its canonical JSON, and 32
/// random bytes (standing for its leaf hash and MAC, also as hex for PostgreSQL).
struct PreparedRow: Sendable {
    let record: DecisionRecord
    let json: String
    let hash: [UInt8]
    let hex: String

    init(_ record: DecisionRecord) {
        self.record = record
        self.json = String(decoding: record.canonicalJSON, as: UTF8.self)
        self.hash = (0..<32).map { _ in UInt8.random(in: 0...255) }
        self.hex = self.hash.map { String(format: "%02x", $0) }.joined()
    }
}

/// The sides of one store: the ledger, plain INSERTs, and the two bounds.
struct Sides {
    var ledger = Side()
    var plain = Side()
    /// The store alone: the same rows, made beforehand, written from one task in transactions
    /// the size of the ledger's batches in the same round.
    var storeAlone = Side()
    /// Latch alone: the ledger's path into ``NothingStored``.
    var latchAlone = Side()
    /// The store alone's transaction size in each round (the ledger's mean batch in that round).
    var aloneBatches: [Int] = []
}

/// Rounds of ledger appends through `recorder`, plain single-row INSERTs (`plain`), the store
/// alone (`storeAlone`, given each round's records in batches the size of that round's ledger commits) and Latch alone,
/// alternating, with `writers` callers each; prints each round and the medians.
func sideBySide(
    _ title: String, server: Int32?, store: any DecisionRecordRepository, commits: Int = 1,
    plain: @escaping @Sendable (DecisionRecord) async throws -> Void, storeAlone: @Sendable ([PreparedRow]) async throws -> Void
) async throws -> Sides {
    let counting = CountingRepository(store)
    let ledgerKey = LedgerKey.generate()
    let recorder = StoreDecisionRecorder(repository: counting, ledgerKey: ledgerKey, concurrentCommits: commits)
    let nothingStored = StoreDecisionRecorder(repository: NothingStored(), ledgerKey: ledgerKey, concurrentCommits: commits)
    var sides = Sides()
    let clock = SystemWallClock()
    // Caller `i % writers` is session `i % writers` on both sides (`throughput` gives each its own).
    let sessions = Session.all(writers, now: clock.now().milliseconds)
    for round in 0..<rounds {
        let roundStart = counting.counts.withLock { $0 }
        try await sides.ledger.measure(perRound, server: server) { i in
            try await recorder.record(record(session: sessions[i % writers], call: i / writers, time: clock.now().milliseconds))
        }
        try await sides.plain.measure(plainPerRound, server: server) { i in
            try await plain(record(session: sessions[i % writers], call: i / writers, time: clock.now().milliseconds))
        }
        // The store alone gets transactions of the size this round's ledger commits had: with one
        // commit in flight, closed-loop callers split into about two halves (those in the commit
        // being written, and those queueing for the next), so batches hold about half the callers.
        let now = clock.now().milliseconds
        let (batchCount, recordCount) = counting.counts.withLock { counts in (counts.batches, counts.records) }
        let size = max(1, Int((Double(recordCount - roundStart.records) / Double(max(1, batchCount - roundStart.batches))).rounded()))
        sides.aloneBatches.append(size)
        let batches = stride(from: 0, to: perRound, by: size).map { first in
            (first..<min(first + size, perRound)).map { i in PreparedRow(record(session: sessions[i % writers], call: i / writers, time: now)) }
        }
        try await sides.storeAlone.measure(batches: batches, server: server, storeAlone)
        try await sides.latchAlone.measure(perRound, server: nil) { i in
            try await nothingStored.record(record(session: sessions[i % writers], call: i / writers, time: clock.now().milliseconds))
        }
        print(
            "\(title) round \(round + 1)/\(rounds): ledger \(fmt(sides.ledger.rates.last ?? 0))/s, plain \(fmt(sides.plain.rates.last ?? 0))/s, "
                + "store alone \(fmt(sides.storeAlone.rates.last ?? 0))/s, Latch alone \(fmt(sides.latchAlone.rates.last ?? 0))/s")
    }
    print(String(format: "\(title): %.1f records per ledger commit on average", counting.meanBatch))
    return sides
}

func report(_ title: String, _ sides: Sides) {
    let plain = median(sides.plain.rates)
    func ratio(_ side: Side) -> String { String(format: "%.1f×", median(side.rates) / plain) }
    print("")
    print("Durable appends, \(title), \(writers) concurrent callers (sessions), \(randomIDs ? "random" : "time-ordered") record and trace IDs, median of \(rounds) rounds")
    print(pad("plain single-row INSERT, one commit per row", 56) + sides.plain.summary)
    print(pad("ledger append (GroupCommit + saveDecisionRecords)", 56) + sides.ledger.summary)
    print(pad("ratio", 56) + ratio(sides.ledger))
    print("bounds (ratio to plain):")
    let sizes = sides.aloneBatches.map(String.init).joined(separator: ", ")
    print(pad("  the store alone, rows a transaction as the ledger's", 56) + sides.storeAlone.summary + ", " + ratio(sides.storeAlone))
    print("    (its transactions: \(sizes) rows, the ledger's mean batch in each round)")
    print(pad("  Latch alone, nothing stored", 56) + sides.latchAlone.summary + ", " + ratio(sides.latchAlone))
    print("")
}

let insertColumns = "id, time, task_id, grant_id, agent, tool, allowed, reason, trace_id, record"

let appendDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("latch-ledger-appends-\(UUID().uuidString)").path
defer { try? FileManager.default.removeItem(atPath: appendDirectory) }
/// Ledger commits in flight on SQLite (`BENCH_SQLITE_COMMITS`, default 1 as `latch serve` runs
/// the recorder there): the store's one writer takes them in turn.
let sqliteCommits = Int(environment["BENCH_SQLITE_COMMITS"] ?? "") ?? 1
let sqliteSides = try await withSQLite(appendDirectory) { store in
    // A second pool on the same file for the plain INSERTs, with the store's durability and
    // checkpoint interval (a connection with SQLite's default of 1,000 pages would checkpoint on
    // its commits far more often than the store's writer does).
    var configuration = Configuration()
    configuration.busyMode = .timeout(30)
    let plain = try DatabasePool(path: appendDirectory + "/" + SQLiteIdentityStore.fileName, configuration: configuration)
    defer { try? plain.close() }
    // Set on the writer after the pool opens, as the store does: GRDB's WAL set-up switches a
    // pool's connections to `synchronous=NORMAL` after `prepareDatabase` runs, so a FULL set
    // there does not hold (before 2026-11-30 the plain side ran at NORMAL, with no fsync per
    // commit).
    try await plain.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
        guard try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 else { fatalError("the plain pool's writer refused synchronous=FULL") }
    }
    // The store alone writes ledger indices from far above the ledger's, so both share the index.
    let aloneIndex = Mutex(Int64(1) << 40)
    return try await sideBySide(
        "SQLite", server: nil, store: store, commits: sqliteCommits,
        plain: { r in
            // The row as the store writes it (its columns and canonical JSON), without the ledger.
            let json = String(decoding: r.canonicalJSON, as: UTF8.self)
            try await plain.write { db in
                try db.execute(
                    sql: "INSERT INTO decision_records (\(insertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [r.id, r.time, r.taskID, r.grantID, r.agent, r.tool, r.allowed ? 1 : 0, r.reason, r.traceID, json])
            }
        },
        storeAlone: { batch in
            // Rows made beforehand (PreparedRow), bound through SQLite's C API to one cached
            // statement, as the store binds: only SQLite's work and GRDB's transaction are timed.
            let first = aloneIndex.withLock { index in
                defer { index += Int64(batch.count) }
                return index
            }
            try await plain.write { db in
                let insert = try db.cachedStatement(sql: "INSERT INTO decision_records (\(insertColumns), leaf_index, leaf_hash, leaf_mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                let handle = insert.sqliteStatement
                for (offset, row) in batch.enumerated() {
                    let r = row.record
                    sqlite3_bind_text(handle, 1, r.id, -1, sqliteTransient)
                    sqlite3_bind_int64(handle, 2, r.time)
                    sqlite3_bind_text(handle, 3, r.taskID, -1, sqliteTransient)
                    sqlite3_bind_text(handle, 4, r.grantID, -1, sqliteTransient)
                    sqlite3_bind_text(handle, 5, r.agent, -1, sqliteTransient)
                    sqlite3_bind_text(handle, 6, r.tool, -1, sqliteTransient)
                    sqlite3_bind_int64(handle, 7, r.allowed ? 1 : 0)
                    sqlite3_bind_null(handle, 8)
                    sqlite3_bind_text(handle, 9, r.traceID, -1, sqliteTransient)
                    sqlite3_bind_text(handle, 10, row.json, -1, sqliteTransient)
                    sqlite3_bind_int64(handle, 11, first + Int64(offset))
                    row.hash.withUnsafeBytes { _ = sqlite3_bind_blob(handle, 12, $0.baseAddress, 32, sqliteTransient) }
                    row.hash.withUnsafeBytes { _ = sqlite3_bind_blob(handle, 13, $0.baseAddress, 32, sqliteTransient) }
                    let code = sqlite3_step(handle)
                    sqlite3_reset(handle)
                    guard code == SQLITE_DONE else { fatalError("the store alone: SQLite error \(code)") }
                }
            }
        })
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the value while binding.
nonisolated(unsafe) let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
report("SQLite (synchronous=FULL, WAL), ledger commits in flight: \(sqliteCommits)", sqliteSides)

// PostgreSQL, when a server is given: a fresh schema, the store's client settings (its pool of
// `maximumConnections`), each plain INSERT its own statement and so its own commit.
if let postgresURL = environment["LATCH_BENCH_POSTGRES_URL"] ?? environment["LATCH_TEST_POSTGRES_URL"] {
    var benchConfiguration = try PostgresStoreConfiguration(url: postgresURL)
    benchConfiguration.schema = "ledger_bench_" + UUID().uuidString.prefix(8).lowercased()
    let configuration = benchConfiguration
    let logger = {
        var logger = Logger(label: "ledger-bench")
        logger.logLevel = .warning
        return logger
    }()
    let commits = Int(environment["BENCH_POSTGRES_COMMITS"] ?? "") ?? 1
    let postgresSides = try await PostgresIdentityStore.withRunningStore(configuration: configuration, logger: logger) { store in
        guard try await store.serverCommitsDurably() else { fatalError("the PostgreSQL server has fsync or synchronous_commit off") }
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password?.unredacted, database: configuration.database, tls: .disable)
        clientConfiguration.options.maximumConnections = configuration.maximumConnections
        clientConfiguration.options.additionalStartupParameters = [("search_path", configuration.schema ?? "public")]
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let aloneIndex = Mutex(Int64(1) << 40)
            let sides = try await sideBySide(
                "PostgreSQL", server: postgresPID, store: store, commits: commits,
                plain: { r in
                    let json = String(decoding: r.canonicalJSON, as: UTF8.self)
                    try await client.query(
                        """
                        INSERT INTO decision_records (\(unescaped: insertColumns))
                        VALUES (\(r.id), \(r.time), \(r.taskID), \(r.grantID), \(r.agent), \(r.tool), \(Int64(r.allowed ? 1 : 0)), \(r.reason),
                                \(r.traceID), \(json))
                        """, logger: logger)
                },
                storeAlone: { batch in
                    // One statement a batch, as the store sends it (columns as arrays), without
                    // the ledger head; hash and MAC as hex, as the store sends them. The arrays
                    // are built in the timed part, as the store builds them.
                    let first = aloneIndex.withLock { index in
                        defer { index += Int64(batch.count) }
                        return index
                    }
                    let query: PostgresQuery = """
                        INSERT INTO decision_records (\(unescaped: insertColumns), leaf_index, leaf_hash, leaf_mac)
                        SELECT id, time, task_id, grant_id, agent, tool, allowed, NULL, trace_id, record, leaf_index, decode(h, 'hex'), decode(h, 'hex')
                        FROM unnest(\(batch.map(\.record.id)), \(batch.map(\.record.time)), \(batch.map(\.record.taskID)), \(batch.map(\.record.grantID)),
                                    \(batch.map(\.record.agent)), \(batch.map { $0.record.tool ?? "" }), \(batch.map { Int64($0.record.allowed ? 1 : 0) }),
                                    \(batch.map { $0.record.traceID ?? "" }), \(batch.map(\.json)), \(batch.indices.map { first + Int64($0) }), \(batch.map(\.hex)))
                            AS r (id, time, task_id, grant_id, agent, tool, allowed, trace_id, record, leaf_index, h)
                        """
                    try await client.query(query, logger: logger)
                })
            try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(configuration.schema ?? "") CASCADE"), logger: logger)
            return sides
        }
    }
    report("PostgreSQL (synchronous_commit on), ledger commits in flight: \(commits)", postgresSides)
} else {
    print("PostgreSQL: not measured (set LATCH_BENCH_POSTGRES_URL)")
}

// MARK: 2. Verify over a large ledger

try await withSQLite(ledgerDirectory) { store in
    let keys = try BenchKeys(directory: ledgerDirectory)
    var size = Int(try await store.ledgerSize())
    if size < ledgerSize {
        print("")
        print("building a ledger of \(ledgerSize) records in \(ledgerDirectory) (once; kept for later runs) …")
        let start = seconds()
        let now = SystemWallClock().now().milliseconds
        let sessions = Session.all(writers, now: now)
        while size < ledgerSize {
            let batch = (size..<min(size + 2_048, ledgerSize)).map { record(session: sessions[$0 % writers], call: $0 / writers, time: now + Int64($0)) }
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
    // What `latch audit verify` runs beside the verifier: every row's query columns against its
    // record, and the grant table.
    var checkTimes: [Double] = []
    for _ in 0..<3 {
        let start = seconds()
        let problems = try await DecisionRecordIndexCheck.problems(store)
        checkTimes.append(seconds() - start)
        guard problems.isEmpty else { fatalError("the benchmark ledger's rows disagree with their records: \(problems[0])") }
    }
    print(
        "columns and grant table over \(size) records (median of 3): "
            + String(format: "%.2f s, %@ records/s", median(checkTimes), fmt(Double(size) / median(checkTimes))))

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
