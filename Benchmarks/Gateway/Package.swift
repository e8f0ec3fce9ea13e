// swift-tools-version: 6.1
import PackageDescription

// Gateway benchmark (release build, not run in CI): a load generator calling a fast MCP tool
// directly and through Latch's gateway (`LatchServer.run` in this process) at 1, 16 and 64
// concurrent sessions, and the gateway's own work per call in-process against a loopback round
// trip measured in the same run. See README.md.
let package = Package(
    name: "GatewayBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Latch", path: "../.."),
        .package(path: "../../Packages/CedarPolicy"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .executableTarget(
            name: "GatewayBench",
            dependencies: [
                .product(name: "LatchCore", package: "Latch"),
                .product(name: "LatchAudit", package: "Latch"),
                .product(name: "LatchIdentity", package: "Latch"),
                .product(name: "LatchGrants", package: "Latch"),
                .product(name: "LatchGateway", package: "Latch"),
                .product(name: "LatchGuard", package: "Latch"),
                .product(name: "LatchServer", package: "Latch"),
                .product(name: "LatchWorkloadProto", package: "Latch"),
                .product(name: "CedarPolicy", package: "CedarPolicy"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        )
    ]
)
