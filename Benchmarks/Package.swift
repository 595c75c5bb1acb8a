// swift-tools-version: 6.1
import Foundation
import PackageDescription

// A path dependency's package identity is its folder's name, which differs between clones.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "swift-raft-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WAL", package: root),
            ],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RaftCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RaftCore", package: root),
            ],
            path: "Benchmarks/RaftCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SnapshotBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "WAL", package: root),
                "CZlibBenchmark",
            ],
            path: "Benchmarks/SnapshotBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "RuntimeBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RaftSimulation", package: root),
            ],
            path: "Benchmarks/RuntimeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Three RaftNodes on a real disk (or in memory) under N concurrent proposers, in memory
        // or over loopback TCP, beside a raw fdatasync loop: a load generator with its own
        // report, not a microbenchmark.
        .executableTarget(
            name: "ClusterLoad",
            dependencies: [
                .product(name: "Raft", package: root),
                .product(name: "RaftNIO", package: root),
                .product(name: "RaftSimulation", package: root),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/ClusterLoad"
        ),
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RaftNIO", package: root),
                .product(name: "Raft", package: root),
                .product(name: "RaftSimulation", package: root),
                .product(name: "WAL", package: root),
            ],
            path: "Benchmarks/TransportBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The single-stream zlib baseline calls compress2/uncompress directly.
        .systemLibrary(name: "CZlibBenchmark", path: "Sources/CZlibBenchmark", pkgConfig: "zlib"),
    ],
    swiftLanguageModes: [.v6]
)
