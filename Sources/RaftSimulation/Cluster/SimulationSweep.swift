#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs many seeds at once, one task per core. Each run stays single-threaded and
/// deterministic on its own; only their order of completion varies.
public enum SimulationSweep {
    /// The number of cores online.
    public static var processorCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Runs every option's simulation and returns the reports in seed order. `onReport` sees
    /// each report as it finishes; returning false stops the sweep early (runs under way
    /// finish, no new one starts).
    public static func run(
        _ options: [SimulationOptions], parallelism: Int = processorCount,
        onReport: (SimulationReport) -> Bool = { _ in true }
    ) async -> [SimulationReport] {
        await withTaskGroup(of: SimulationReport.self) { group in
            var pending = options[...]
            for _ in 0..<min(max(1, parallelism), pending.count) {
                let option = pending.removeFirst()
                group.addTask { await ClusterSimulation(options: option).run() }
            }
            var reports: [SimulationReport] = []
            for await report in group {
                reports.append(report)
                if !onReport(report) { pending = [] }
                if let option = pending.popFirst() {
                    group.addTask { await ClusterSimulation(options: option).run() }
                }
            }
            return reports.sorted { $0.seed < $1.seed }
        }
    }
}
