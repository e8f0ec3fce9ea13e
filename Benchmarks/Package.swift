// swift-tools-version: 6.1
import PackageDescription

// Benchmarks for CedarPolicy: a release-mode executable timed side by side with cedarpy by run.sh.
// Allocations are counted by MallocCounter, which interposes malloc and friends in the executable.
let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../Packages/CedarPolicy")
    ],
    targets: [
        .target(name: "MallocCounter"),
        .executableTarget(
            name: "CedarBench",
            dependencies: [
                "MallocCounter",
                .product(name: "CedarPolicy", package: "CedarPolicy"),
            ]
        ),
    ]
)
