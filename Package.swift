// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "aurora-cutover",
    products: [
        .library(name: "MariaDB", targets: ["MariaDB"]),
        .library(name: "ReplicationControl", targets: ["ReplicationControl"]),
        .library(name: "ProxySQLAdmin", targets: ["ProxySQLAdmin"]),
        .library(name: "Cutover", targets: ["Cutover"]),
        .library(name: "CutoverSandbox", targets: ["CutoverSandbox"]),
        .library(name: "_CutoverTestSupport", targets: ["CutoverTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // MARK: C shim
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),

        // MARK: Libraries
        .target(
            name: "MariaDB",
            dependencies: [
                "CMariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ReplicationControl",
            dependencies: [
                "MariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ProxySQLAdmin",
            dependencies: [
                "MariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Cutover",
            dependencies: [
                "ReplicationControl",
                "ProxySQLAdmin",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CutoverSandbox",
            dependencies: [
                "MariaDB",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "CutoverTestSupport",
            dependencies: ["MariaDB"]
        ),

        // MARK: Tests
        .testTarget(
            name: "MariaDBTests",
            dependencies: ["MariaDB", "CutoverTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ReplicationControlTests",
            dependencies: ["ReplicationControl", "CutoverTestSupport"]
        ),
        .testTarget(
            name: "ProxySQLAdminTests",
            dependencies: [
                "ProxySQLAdmin",
                "CutoverTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CutoverTests",
            dependencies: [
                "Cutover",
                "CutoverTestSupport",
                "MariaDB",
                "ProxySQLAdmin",
                "ReplicationControl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CutoverSandboxTests",
            dependencies: [
                "CutoverSandbox",
                "MariaDB",
                "CutoverTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Cutover",
                "MariaDB",
                "ProxySQLAdmin",
                "ReplicationControl",
                "CutoverSandbox",
                "CutoverTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
    ]
)

// Applied to every target (swift-log style).
let sharedSwiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + sharedSwiftSettings
}
