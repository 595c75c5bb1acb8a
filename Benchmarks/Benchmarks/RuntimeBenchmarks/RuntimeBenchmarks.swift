import Benchmark
import RaftSimulation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(5)

    // The runtime's cost over the pure core (RaftCoreBenchmarks runs the same cluster shape
    // with MemoryLogStorage and no state machine): three node engines with the real WAL and
    // snapshot store on zero-latency SimulatedFileSystems, and a KV state machine. One scaled
    // iteration is one committed 256-byte put, proposed in batches of 100.
    Benchmark(
        "Runtime: 3-node cluster on SimulatedFileSystem, 256-byte puts in batches of 100, committed entries",
        configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident], scalingFactor: .kilo)
    ) { benchmark in
        guard let cluster = try? await ThroughputCluster.start() else { fatalError("the cluster elected no leader") }
        benchmark.startMeasurement()
        let committed = await cluster.run(count: benchmark.scaledIterations.count, size: 256, batch: 100)
        benchmark.stopMeasurement()
        precondition(committed == benchmark.scaledIterations.count, "every entry must commit")
    }

    // Simulator speed, for planning how many seeds CI can afford: one scaled iteration is one
    // simulated tick of a seeded run with every fault kind on.
    Benchmark(
        "Simulator: one seed with every fault kind on, simulated ticks",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxIterations: 20)
    ) { benchmark in
        var options = SimulationOptions(seed: 7)
        options.faultTicks = UInt64(benchmark.scaledIterations.count)
        options.everyFaultKind = true
        benchmark.startMeasurement()
        let report = await ClusterSimulation(options: options).run()
        benchmark.stopMeasurement()
        blackHole(report.ticks)
    }
}
