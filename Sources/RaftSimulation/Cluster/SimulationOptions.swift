import RaftCore

/// What one simulated run does. Everything not given is drawn from the seed.
public struct SimulationOptions: Sendable {
    /// The seed everything random in the run derives from.
    public var seed: UInt64
    /// Ticks with faults on.
    public var faultTicks: UInt64 = 20_000
    /// Ticks allowed, once faults stop and the network heals, for a leader to be elected and
    /// every member to converge.
    public var livenessTicks: UInt64 = 3_000
    /// Voters in the cluster (nil: 3 or 5, drawn).
    public var nodeCount: Int?
    /// Concurrent clients.
    public var clients = 4
    /// Keys the clients work on.
    public var keys = 6
    /// Network faults (nil: drawn per seed).
    public var networkFaults: NetworkFaults?
    /// Node and storage faults (nil: drawn per seed).
    public var nodeFaults: NodeFaults?
    /// Whether every fault kind is on in the drawn profiles (only rates vary); otherwise
    /// each kind is off for about half the seeds.
    public var everyFaultKind = false
    /// Whether to keep the trace of every event (it is always kept for failing runs' reruns).
    public var recordsTrace = false

    /// Creates options for `seed`.
    public init(seed: UInt64) {
        self.seed = seed
    }
}
