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
    ],
    dependencies: [
        .package(path: "Packages/CedarPolicy"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Store: SQLite (embedded default) and PostgreSQL (several nodes).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "LatchCore", swiftSettings: settings),
        .executableTarget(
            name: "latch",
            dependencies: [
                "LatchCore",
                .product(name: "CedarPolicy", package: "CedarPolicy"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: settings
        ),
        // Store: one implementation per backend of every repository protocol in the domain modules.
        .target(name: "LatchStoreSupport", dependencies: ["LatchCore", "LatchIdentity"], swiftSettings: settings),
        .target(
            name: "LatchSQLite",
            dependencies: ["LatchCore", "LatchIdentity", "LatchStoreSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings
        ),
        .target(
            name: "LatchPostgres",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchStoreSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
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
                "LatchCore", "LatchIdentity", "LatchSQLite", "LatchTesting", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: settings
        ),
        .testTarget(
            name: "LatchPostgresTests",
            dependencies: [
                "LatchCore",
                "LatchIdentity",
                "LatchPostgres",
                "LatchStoreSupport",
                "LatchTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: settings
        ),
        .testTarget(name: "LatchCoreTests", dependencies: ["LatchCore"], swiftSettings: settings),
        .testTarget(name: "LatchCLITests", dependencies: ["latch"], swiftSettings: settings),
    ]
)
