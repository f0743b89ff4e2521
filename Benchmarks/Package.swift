// swift-tools-version:6.3
import PackageDescription

// Benchmarks live in their own package so the library manifest stays benchmark-free (STYLE.md §9).
// Run from this directory: `swift package benchmark` (see Documentation/benchmarks.md).
let package = Package(
    name: "Benchmarks",
    dependencies: [
        .package(name: "aurora-cutover", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // The raw C API, for baselines measured in the same process as the wrapper.
        .systemLibrary(
            name: "CMariaDBRaw",
            path: "Sources/CMariaDBRaw",
            pkgConfig: "libmariadb",
            providers: [.apt(["libmariadb-dev"])]
        ),
        .executableTarget(
            name: "MariaDBRoundTrip",
            dependencies: [
                "CMariaDBRaw",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MariaDB", package: "aurora-cutover"),
                .product(name: "CutoverSandbox", package: "aurora-cutover"),
            ],
            path: "Benchmarks/MariaDBRoundTrip",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Pure hot paths (parsing, GTIDs, positions, the state machine, SQL rendering); allocation thresholds in
        // Thresholds/ are checked by CI.
        .executableTarget(
            name: "Micro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MariaDB", package: "aurora-cutover"),
                .product(name: "ReplicationControl", package: "aurora-cutover"),
                .product(name: "Cutover", package: "aurora-cutover"),
                .product(name: "_CutoverTestSupport", package: "aurora-cutover"),
            ],
            path: "Benchmarks/Micro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The headline benchmark: whole writer cut-overs under load against the fixed-sleep procedure. Its own
        // driver, not a package-benchmark target (see the comment at the top of its main file).
        .executableTarget(
            name: "cutover-window",
            dependencies: [
                .product(name: "Cutover", package: "aurora-cutover"),
                .product(name: "CutoverRehearsal", package: "aurora-cutover"),
                .product(name: "CutoverSandbox", package: "aurora-cutover"),
                .product(name: "MariaDB", package: "aurora-cutover"),
                .product(name: "ProxySQLAdmin", package: "aurora-cutover"),
                .product(name: "ReplicationControl", package: "aurora-cutover"),
                // ConnectionHog: the shunned-writer scenarios (#14 item 8) make the new writer refuse connections.
                .product(name: "_CutoverTestSupport", package: "aurora-cutover"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/CutoverWindow"
        ),
    ]
)
