import RaftSimulation

/// Totals over the seeds of a sweep, printed as text or JSON.
struct SweepSummary {
    var seedsRun = 0
    var ticks: UInt64 = 0
    var operationsChecked = 0
    var operationsUnknown = 0
    var faults: [String: Int] = [:]
    var violations: [(seed: UInt64, description: String)] = []
    var wallSeconds = 0.0
    var unknownLinearizability = 0
    /// The report, when exactly one seed ran.
    var single: SimulationReport?

    mutating func add(_ report: SimulationReport) {
        single = seedsRun == 0 ? report : nil
        seedsRun += 1
        ticks += report.ticks
        operationsChecked += report.operationsChecked
        operationsUnknown += report.operationsUnknown
        for (kind, count) in report.faults { faults[kind, default: 0] += count }
        violations += report.violations.map { (report.seed, $0) }
        if report.linearizability.hasPrefix("unknown") { unknownLinearizability += 1 }
    }

    func text() -> String {
        var lines = [
            "seeds: \(seedsRun), simulated ticks: \(ticks), operations checked: \(operationsChecked) (\(operationsUnknown) with unknown outcome)",
            "faults: " + faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            "violations: \(violations.count); linearizability undecided (search budget) in \(unknownLinearizability) seeds",
            "wall time: \(Self.rounded(wallSeconds)) s",
        ]
        if let single { lines.insert("seed \(single.seed): \(single.nodeCount) nodes, \(single.linearizability)", at: 0) }
        return lines.joined(separator: "\n")
    }

    func json(failures: [SimulationReport]) -> String {
        let faultFields = faults.sorted { $0.key < $1.key }.map { "\"\(escape($0.key))\": \($0.value)" }
        let violationFields = violations.map { "{\"seed\": \($0.seed), \"violation\": \"\(escape($0.description))\"}" }
        return """
            {"seeds": \(seedsRun), "simulatedTicks": \(ticks), "operationsChecked": \(operationsChecked), \
            "operationsUnknown": \(operationsUnknown), "linearizabilityUndecided": \(unknownLinearizability), \
            "faults": {\(faultFields.joined(separator: ", "))}, \
            "violations": [\(violationFields.joined(separator: ", "))], \
            "failingSeeds": [\(failures.map { "\($0.seed)" }.joined(separator: ", "))], \
            "wallSeconds": \(Self.rounded(wallSeconds))}
            """
    }

    private static func rounded(_ seconds: Double) -> Double {
        (seconds * 100).rounded() / 100
    }

    private func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case _ where scalar.value < 0x20: escaped += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
