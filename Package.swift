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
        .library(name: "CutoverRehearsal", targets: ["CutoverRehearsal"]),
        .library(name: "_CutoverTestSupport", targets: ["CutoverTestSupport"]),
        .executable(name: "migrate-cli", targets: ["MigrateCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // MARK: C shim
        .systemLibrary(
            name: "CMariaDB",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
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
                "MariaDB",
                "ReplicationControl",
                "ProxySQLAdmin",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CutoverSandbox",
            dependencies: [
                "MariaDB",
                "CSQLite",
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "CutoverRehearsal",
            dependencies: [
                "Cutover",
                "CutoverSandbox",
                "ReplicationControl",
                "ProxySQLAdmin",
                "MariaDB",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "CutoverTestSupport",
            dependencies: [
                "MariaDB",
                "ProxySQLAdmin",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Executable
        .executableTarget(
            name: "MigrateCLI",
            dependencies: [
                "Cutover",
                "CutoverRehearsal",
                "CutoverSandbox",
                "ProxySQLAdmin",
                "ReplicationControl",
                "MariaDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests
        .testTarget(
            name: "MariaDBTests",
            dependencies: ["MariaDB", "CutoverTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ReplicationControlTests",
            dependencies: [
                "ReplicationControl",
                "MariaDB",
                "CutoverTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ProxySQLAdminTests",
            dependencies: [
                "ProxySQLAdmin",
                "MariaDB",
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
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "MigrateCLITests",
            dependencies: [
                "MigrateCLI",
                "Cutover",
                "CutoverRehearsal",
                "CutoverSandbox",
                "MariaDB",
                "ProxySQLAdmin",
                "ReplicationControl",
                "CutoverTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]
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
                "CutoverRehearsal",
                "CutoverTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
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
