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
        .testTarget(name: "LatchCoreTests", dependencies: ["LatchCore"], swiftSettings: settings),
        .testTarget(name: "LatchCLITests", dependencies: ["latch"], swiftSettings: settings),
    ]
)
