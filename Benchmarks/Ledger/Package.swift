// swift-tools-version: 6.1
import PackageDescription

// Ledger benchmarks (release builds, not run in CI):
// - LedgerBench: durable decision-record appends through the gateway's path (GroupCommit +
//   saveDecisionRecords: ledger index, leaf hash and MAC per record) against plain single-row
//   INSERTs of the same rows with the same durability on the same store in the same run; then
//   `verify` over a ledger of BENCH_LEDGER_SIZE (default 1,000,000) records and inclusion and
//   consistency proofs at that size. Beside the two append sides, in the same rounds, the two
//   bounds on the ledger's rate: the store alone and Latch alone. With LATCH_BENCH_POSTGRES_URL (or LATCH_TEST_POSTGRES_URL) set,
//   the appends side by side on PostgreSQL too.
let package = Package(
    name: "LedgerBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Latch", path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "LedgerBench",
            dependencies: [
                .product(name: "LatchAudit", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "LatchGateway", package: "Latch"),
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchPostgres", package: "Latch"),
                .product(name: "LatchSQLite", package: "Latch"),
                .product(name: "LatchStoreSupport", package: "Latch"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ]
)
