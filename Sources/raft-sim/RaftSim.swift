import ArgumentParser
import RaftSimulation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the deterministic cluster simulator: one seed with its trace, or a sweep of seeds.
@main
struct RaftSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft-sim",
        abstract: "Simulate a Raft cluster under network, node and storage faults, one seed at a time.",
        discussion: """
            Every run is determined by its seed: `raft-sim --seed N` replays it event for event. \
            Exits 0 when every invariant held, 1 with the failing seed otherwise.
            """)

    @Option(parsing: .unconditional, help: "Run this one seed and print its trace.")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Sweep this many seeds.")
    var seeds: Int?

    @Option(parsing: .unconditional, help: "The first seed of a sweep.")
    var start: UInt64 = 1

    @Option(parsing: .unconditional, help: "Ticks with faults on, per seed.")
    var ticks: UInt64 = 20_000

    @Flag(help: "Turn every fault kind on in every seed (by default each is off for about half the seeds).")
    var everyFault = false

    @Flag(help: "In a sweep, stop at the first failing seed.")
    var failFast = false

    @Flag(help: "Print a JSON summary instead of text.")
    var json = false

    @Flag(help: "With --seed: print every event of the trace.")
    var verbose = false

    /// Bounds on what one invocation may ask for, far beyond any useful run: a sweep keeps
    /// one entry per seed in memory, and a run's tick counter must not overflow.
    static let maxSeeds = 1 << 24
    static let maxTicks: UInt64 = 1 << 40

    func validate() throws {
        guard (seed == nil) != (seeds == nil) else { throw ValidationError("give either --seed N or --seeds COUNT") }
        if let seeds {
            guard seeds >= 1 else { throw ValidationError("--seeds must be positive") }
            guard seeds <= Self.maxSeeds else { throw ValidationError("--seeds must be at most \(Self.maxSeeds)") }
            guard start.addingReportingOverflow(UInt64(seeds - 1)).overflow == false else {
                throw ValidationError("--start \(start) with --seeds \(seeds) runs past the largest seed, \(UInt64.max)")
            }
        }
        guard ticks >= 1, ticks <= Self.maxTicks else { throw ValidationError("--ticks must be between 1 and \(Self.maxTicks)") }
        if verbose && seed == nil { throw ValidationError("--verbose prints one seed's trace: give it with --seed N") }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let first = seed ?? start
        let count = seed == nil ? seeds ?? 1 : 1
        var summary = SweepSummary()
        let progress = ProgressBar(total: count, enabled: seed == nil && !json && isatty(STDERR_FILENO) == 1)
        var failures: [SimulationReport] = []
        let runs = (0..<UInt64(count)).map { options(seed: first + $0, trace: seed != nil) }
        _ = await SimulationSweep.run(runs) { report in
            summary.add(report)
            if !report.passed { failures.append(report) }
            progress.advance(failures: failures.count)
            return !(failFast && !failures.isEmpty)
        }
        progress.finish()
        failures.sort { $0.seed < $1.seed }
        // A failing seed of a sweep is run again with its trace: the same seed gives the same run.
        var traced: [SimulationReport] = []
        for failure in failures.prefix(1) {
            traced.append(seed == nil ? await ClusterSimulation(options: options(seed: failure.seed, trace: true)).run() : failure)
        }
        summary.wallSeconds = Double((clock.now - started).components.seconds)
            + Double((clock.now - started).components.attoseconds) / 1e18
        if json {
            print(summary.json(failures: failures))
        } else {
            if seed != nil, verbose, let report = summary.single { report.trace.forEach { print($0) } }
            print(summary.text())
            for report in traced {
                print("trace of seed \(report.seed) (last 60 events; --seed \(report.seed) --verbose prints all):")
                for line in report.trace.suffix(60) { print("  \(line)") }
                print("FAILED: raft-sim --seed \(report.seed)\(everyFault ? " --every-fault" : "") --ticks \(ticks)")
                for violation in report.violations { print("  \(violation)") }
            }
        }
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func options(seed: UInt64, trace: Bool) -> SimulationOptions {
        var options = SimulationOptions(seed: seed)
        options.faultTicks = ticks
        options.recordsTrace = trace
        options.everyFaultKind = everyFault
        return options
    }
}
