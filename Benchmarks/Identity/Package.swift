// swift-tools-version: 6.1
import PackageDescription

// Identity benchmark: JWT-SVIDs minted and validated per second against raw swift-crypto P-256
// sign and verify measured in the same run. Release build: `swift run -c release IdentityBench`.
let package = Package(
    name: "IdentityBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Latch", path: "../.."),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "IdentityBench",
            dependencies: [
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        )
    ]
)
