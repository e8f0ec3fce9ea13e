// swift-tools-version: 6.1
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "CedarPolicy",
    products: [
        .library(name: "CedarPolicy", targets: ["CedarPolicy"])
    ],
    targets: [
        .target(name: "CedarPolicy", swiftSettings: settings),
        .testTarget(
            name: "CedarPolicyTests", dependencies: ["CedarPolicy"], exclude: ["JSON/Fixtures"], swiftSettings: settings),
    ]
)
