// swift-tools-version: 6.1
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Latch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "latch", targets: ["latch"]),
        .library(name: "LatchCore", targets: ["LatchCore"]),
        .library(name: "LatchIdentity", targets: ["LatchIdentity"]),
        .library(name: "LatchTesting", targets: ["LatchTesting"]),
        .library(name: "LatchServer", targets: ["LatchServer"]),
        .library(name: "LatchGrants", targets: ["LatchGrants"]),
        .library(name: "LatchGateway", targets: ["LatchGateway"]),
        .library(name: "LatchSecrets", targets: ["LatchSecrets"]),
        .library(name: "LatchGuard", targets: ["LatchGuard"]),
        .library(name: "LatchAudit", targets: ["LatchAudit"]),
        .library(name: "LatchSQLite", targets: ["LatchSQLite"]),
        .library(name: "LatchPostgres", targets: ["LatchPostgres"]),
        .library(name: "LatchStoreSupport", targets: ["LatchStoreSupport"]),
        .library(name: "LatchWorkloadProto", targets: ["LatchWorkloadProto"]),
    ],
    dependencies: [
        .package(path: "Packages/CedarPolicy"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Identity: 3.x or 4.x of swift-crypto, whichever the rest of the graph settles on.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // Store: SQLite (embedded default) and PostgreSQL (several nodes).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // TLS for the PostgreSQL store's first connection (postgres-nio's own dependency).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.25.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Server: the Workload API (gRPC on a unix socket), HTTP endpoints, the config file.
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        // No default traits: swift-configuration support and full Foundation are not needed.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // Fetching federated issuers' JWKS.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Metrics: the gateway records through swift-metrics; `latch serve` exports Prometheus text.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "LatchCore", swiftSettings: settings),
        // The runtime guard's rules and value provenance: no dependencies, builds in seconds.
        .target(name: "LatchGuard", swiftSettings: settings),
        .target(
            name: "LatchIdentity",
            dependencies: [
                "LatchCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: settings
        ),
        // Grants: task grants, delegation, DPoP (RFC 9449), revocation. Domain module: no NIO or drivers.
        .target(
            name: "LatchGrants",
            dependencies: ["LatchCore", "LatchIdentity", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings
        ),
        // Audit: the tamper-evident ledger (RFC 9162 Merkle tree, C2SP signed checkpoints, proofs,
        // the verifier). Domain module: Core and swift-crypto only.
        .target(
            name: "LatchAudit",
            dependencies: ["LatchCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings
        ),
        // Gateway: MCP messages, tool catalog and labels, upstream MCP servers, the per-call
        // pipeline. Domain module: no NIO, Hummingbird or drivers.
        .target(
            name: "LatchGateway",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGuard", "LatchAudit", .product(name: "CedarPolicy", package: "CedarPolicy"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "LatchTesting",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchSecrets", "LatchStoreSupport", "LatchAudit",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings
        ),
        // Secrets: sealed secrets (AES-256-GCM under the KEK) and injection templates. Domain module: no NIO or drivers.
        .target(
            name: "LatchSecrets",
            dependencies: ["LatchCore", "LatchIdentity"],
            swiftSettings: settings
        ),
        .executableTarget(
            name: "latch",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchGrants",
                "LatchGateway",
                "LatchSecrets",
                "LatchServer",
                "LatchAudit",
                "LatchSQLite",
                "LatchPostgres",
                "LatchStoreSupport",
                "LatchWorkloadProto",
                .product(name: "CedarPolicy", package: "CedarPolicy"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: settings
        ),
        // Generated from proto/workload.proto by scripts/generate-proto.sh (committed; not a build plugin).
        .target(
            name: "LatchWorkloadProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // `latch serve`: the Workload API, the HTTP endpoints, rotation and change watching.
        .target(
            name: "LatchServer",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchGrants",
                "LatchGateway",
                "LatchGuard",
                "LatchSecrets",
                "LatchWorkloadProto",
                "LatchSQLite",
                "LatchAudit",
                .product(name: "CedarPolicy", package: "CedarPolicy"),
                "LatchPostgres",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // `latch demo`'s scripted agent signs its DPoP proofs.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: settings
        ),
        // Store: one implementation per backend of every repository protocol in the domain modules.
        .target(
            name: "LatchStoreSupport", dependencies: ["LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchSecrets", "LatchAudit"],
            swiftSettings: settings),
        .target(
            name: "LatchSQLite",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchSecrets", "LatchStoreSupport", "LatchAudit",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for binding grant rows straight to GRDB's prepared statement.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: settings
        ),
        .target(
            name: "LatchPostgres",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchGrants",
                "LatchGateway",
                "LatchSecrets",
                "LatchStoreSupport",
                "LatchAudit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchStoreSupportTests",
            dependencies: ["LatchCore", "LatchIdentity", "LatchStoreSupport"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchSQLiteTests",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchSecrets", "LatchSQLite", "LatchTesting", "LatchAudit",
                "LatchStoreSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchPostgresTests",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchGrants",
                "LatchPostgres",
                "LatchSecrets",
                "LatchStoreSupport",
                "LatchTesting",
                "LatchAudit",
                "LatchGateway",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchGatewayTests",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchGuard", "LatchSQLite", "LatchTesting", "LatchAudit",
                .product(name: "CedarPolicy", package: "CedarPolicy"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings
        ),
        .testTarget(name: "LatchCoreTests", dependencies: ["LatchCore"], swiftSettings: settings),
        .testTarget(name: "LatchGuardTests", dependencies: ["LatchGuard"], swiftSettings: settings),
        .testTarget(
            name: "LatchAuditTests",
            dependencies: ["LatchCore", "LatchAudit", "LatchIdentity", "LatchTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchIdentityTests",
            dependencies: ["LatchCore", "LatchIdentity", "LatchGrants", "LatchSecrets", "LatchTesting"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchSecretsTests",
            dependencies: ["LatchCore", "LatchIdentity", "LatchSecrets", "LatchTesting"],
            swiftSettings: settings
        ),
        // The binary under test, and the store and record types to set up data for it.
        .testTarget(
            name: "LatchCLITests",
            dependencies: [
                "latch", "LatchCore", "LatchGateway", "LatchGrants", "LatchSecrets", "LatchIdentity", "LatchSQLite", "LatchTesting", "LatchAudit",
                "LatchServer",
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: settings),
        .testTarget(
            name: "LatchGrantsTests",
            dependencies: ["LatchCore", "LatchIdentity", "LatchGrants", "LatchTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: settings
        ),
        // The attack scenarios of issue 7 (Tests/Scenarios/Data, one YAML file each) replayed through
        // the real gateway, grants, guard and ledger on SQLite; only the upstream is canned.
        .testTarget(
            name: "LatchScenarioTests",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGrants", "LatchGateway", "LatchGuard", "LatchServer", "LatchSQLite", "LatchTesting", "LatchAudit",
                .product(name: "CedarPolicy", package: "CedarPolicy"), .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/Scenarios",
            exclude: ["Data", "README.md"],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchServerTests",
            dependencies: [
                "LatchCore", "LatchIdentity", "LatchGateway", "LatchGrants", "LatchGuard", "LatchServer", "LatchWorkloadProto", "LatchTesting",
                "LatchAudit",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: settings
        ),
    ]
)
