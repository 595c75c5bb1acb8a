// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "swift-raft",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "WAL", targets: ["WAL"]),
        .library(name: "RaftCore", targets: ["RaftCore"]),
        .library(name: "Raft", targets: ["Raft"]),
        .library(name: "RaftSimulation", targets: ["RaftSimulation"]),
        .library(name: "RaftNIO", targets: ["RaftNIO"]),
        .library(name: "RaftKV", targets: ["RaftKV"]),
        .executable(name: "raftkv", targets: ["raftkv"]),
        .executable(name: "raft-sim", targets: ["raft-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: C shims (no unsafeFlags: CPU features are selected per function at run time)
        .target(name: "CCRC32C"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Consensus core: the standard library only
        .target(name: "RaftCore"),

        // MARK: Storage engine
        .target(
            name: "WAL",
            dependencies: [
                "CCRC32C",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // MARK: Runtime: the core joined to storage, a transport and a clock
        .target(
            name: "Raft",
            dependencies: [
                "RaftCore",
                "WAL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // MARK: Network transport: envelopes over authenticated TCP connections
        .target(
            name: "RaftNIO",
            dependencies: [
                "Raft",
                "RaftCore",
                "WAL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),

        // MARK: Replicated key-value store and its RESP front end
        .target(
            name: "RaftKV",
            dependencies: [
                "Raft",
                "RaftCore",
                "WAL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: Test support
        .target(
            name: "RaftSimulation",
            dependencies: ["WAL", "RaftCore", "Raft", "RaftKV", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: Executables
        .executableTarget(
            name: "raftkv",
            dependencies: [
                "WAL",
                "Raft",
                "RaftKV",
                "RaftNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // MARK: Examples (built by `swift build` and by the tests, so they keep compiling)
        .executableTarget(
            name: "ReplicatedCounter",
            dependencies: ["Raft", "RaftNIO"],
            path: "Examples/ReplicatedCounter"
        ),

        .executableTarget(
            name: "raft-sim",
            dependencies: [
                "RaftSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests
        .testTarget(
            name: "WALTests",
            dependencies: [
                "WAL",
                "raftkv",
                "RaftCore",
                "RaftSimulation",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SnapshotTests",
            dependencies: [
                "WAL",
                "RaftCore",
                "RaftSimulation",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RaftCoreTests", dependencies: ["RaftCore"]),
        .testTarget(
            name: "RaftTests",
            dependencies: [
                "Raft",
                "RaftCore",
                "RaftSimulation",
                "WAL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "RaftNIOTests",
            dependencies: [
                "RaftNIO",
                "Raft",
                "RaftCore",
                "RaftSimulation",
                "WAL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RaftSimulationTests", dependencies: ["RaftSimulation", "RaftCore"]),
        .testTarget(
            name: "RaftKVProcessTests",
            dependencies: [
                "RaftKV",
                "RaftSimulation",
                "raftkv",
                "ReplicatedCounter",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RaftKVTests",
            dependencies: [
                "RaftKV",
                "Raft",
                "RaftCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
