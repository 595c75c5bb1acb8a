/// What one simulated run found.
public struct SimulationReport: Sendable {
    /// The run's seed: `raft-sim --seed N` reproduces it.
    public var seed: UInt64
    /// Voters the cluster started with.
    public var nodeCount: Int
    /// Ticks simulated, faults and liveness phase together.
    public var ticks: UInt64 = 0
    /// Client operations in the checked history.
    public var operationsChecked = 0
    /// Operations whose outcome the client never learned.
    public var operationsUnknown = 0
    /// Faults injected, by kind (network and node kinds together).
    public var faults: [String: Int] = [:]
    /// Invariant violations; empty for a passing run.
    public var violations: [String] = []
    /// The linearizability checker's verdict, in words.
    public var linearizability = "not checked"
    /// Every event of the run, one line each, when recorded.
    public var trace: [String] = []

    /// Whether every invariant held.
    public var passed: Bool { violations.isEmpty }
}
