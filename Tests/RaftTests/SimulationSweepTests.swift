import RaftSimulation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The deterministic cluster simulation over many seeds, with every fault kind on.
///
/// `RAFT_SIM_SEEDS` and `RAFT_SIM_TICKS` change the sweep; `raft-sim` runs longer ones.
@Suite struct SimulationSweepTests {
    static let seeds = environment("RAFT_SIM_SEEDS") ?? 300
    static let ticks = UInt64(environment("RAFT_SIM_TICKS") ?? 20_000)

    @Test func everyInvariantHoldsOverASweepOfSeedsWithEveryFaultKindOn() async {
        var options: [SimulationOptions] = []
        for seed in 1...UInt64(Self.seeds) {
            var option = SimulationOptions(seed: seed)
            option.faultTicks = Self.ticks
            option.everyFaultKind = true
            options.append(option)
        }
        let reports = await SimulationSweep.run(options)
        let failures = reports.filter { !$0.passed }
        for failure in failures.prefix(5) {
            Issue.record("raft-sim --seed \(failure.seed) --every-fault --ticks \(Self.ticks): \(failure.violations.joined(separator: "; "))")
        }
        #expect(reports.count == Self.seeds)
        #expect(reports.allSatisfy { $0.ticks >= Self.ticks }, "every seed ran its ticks")
        var faults: [String: Int] = [:]
        for report in reports { faults.merge(report.faults, uniquingKeysWith: +) }
        for kind in ["crash", "powerLoss", "bitFlipLog", "bitFlipSnapshot", "syncError", "writeError", "diskFull",
            "diskLoss", "leaderChurn", "loss", "duplication", "reordering", "partition", "asymmetricPartition", "isolation", "clog", "pause"]
        {
            #expect(faults[kind, default: 0] > 0, "the sweep injected no \(kind) fault")
        }
        let operations = reports.reduce(0) { $0 + $1.operationsChecked }
        #expect(operations > Self.seeds * 100, "the clients got work done: \(operations) operations checked")
    }

    @Test func theSameSeedGivesTheSameTraceByteForByte() async {
        var options = SimulationOptions(seed: 42)
        options.faultTicks = 3_000
        options.everyFaultKind = true
        options.recordsTrace = true
        let first = await ClusterSimulation(options: options).run()
        let second = await ClusterSimulation(options: options).run()
        #expect(first.trace.count > 100)
        #expect(first.trace == second.trace)
        options.seed = 43
        let other = await ClusterSimulation(options: options).run()
        #expect(other.trace != first.trace, "another seed gives another run")
    }

    private static func environment(_ name: String) -> Int? {
        getenv(name).flatMap { Int(String(cString: $0)) }
    }
}
