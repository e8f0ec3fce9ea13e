// swift-tools-version: 6.1
import PackageDescription

// Guard benchmark (release build, not run in CI): the runtime guard's evaluation per call with
// 50 rules over a 10,000-event history, against the gateway's Cedar decision (scope check and
// `CallTool` over the example policies) in the same run. See ../README.md, "The guard".
let package = Package(
    name: "GuardBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Latch", path: "../.."),
        .package(path: "../../Packages/CedarPolicy"),
    ],
    targets: [
        .executableTarget(
            name: "GuardBench",
            dependencies: [
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchGrants", package: "Latch"),
                .product(name: "LatchGateway", package: "Latch"),
                .product(name: "LatchGuard", package: "Latch"),
                .product(name: "CedarPolicy", package: "CedarPolicy"),
            ]
        )
    ]
)
