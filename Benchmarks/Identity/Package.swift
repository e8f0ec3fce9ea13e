// swift-tools-version: 6.1
import PackageDescription

// Identity benchmarks (release builds, not run in CI):
// - IdentityBench: JWT-SVIDs minted and validated per second against raw swift-crypto P-256 sign
//   and verify measured in the same run; X.509-SVIDs minted in-process.
// - GrantBench: task grants minted, and verified on the hot path (signature + DPoP + revocation),
//   against raw P-256 sign and verify in the same run.
// - GrantIssueBench: durable grant issuance (sign + group-committed insert) on SQLite and
//   PostgreSQL against raw P-256 signing with the same concurrency, and the whole token exchange.
// - WorkloadAPIBench: X.509-SVIDs and JWT-SVIDs per second end to end over the Workload API socket
//   of a real server (`LatchServer.run`, SQLite store), against in-process minting in the same run.
let package = Package(
    name: "IdentityBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Latch", path: "../.."),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "BenchSupport"),
        .executableTarget(
            name: "IdentityBench",
            dependencies: [
                "BenchSupport",
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "GrantBench",
            dependencies: [
                "BenchSupport",
                .product(name: "LatchGrants", package: "Latch"),
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "GrantIssueBench",
            dependencies: [
                "BenchSupport",
                .product(name: "LatchGrants", package: "Latch"),
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "LatchServer", package: "Latch"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "WorkloadAPIBench",
            dependencies: [
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "LatchServer", package: "Latch"),
                .product(name: "LatchWorkloadProto", package: "Latch"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
