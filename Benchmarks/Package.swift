// swift-tools-version:6.3
import PackageDescription

// Benchmarks live in their own package so the library manifest stays benchmark-free (STYLE.md §9).
// Run from this directory: `swift package benchmark` (see Documentation/benchmarks.md).
let package = Package(
    name: "Benchmarks",
    dependencies: [
        .package(name: "aurora-cutover", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
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
    ]
)
