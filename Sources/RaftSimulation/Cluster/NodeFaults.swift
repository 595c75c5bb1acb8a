import RaftCore

/// How often nodes and their disks fail, per tick, in one simulated run.
///
/// As with `NetworkFaults`, `random(using:)` switches each kind on for about half the seeds
/// and draws its rate from a wide range (swarm testing).
public struct NodeFaults: Sendable, Hashable {
    /// A running node crashes: it loses its unsynced writes, and in-flight writes tear.
    public var crashRate = 0.0
    /// Every node crashes at once, as in a power loss to the whole cluster.
    public var powerLossRate = 0.0
    /// A crashed node's disk gets a bit flipped in a log segment or snapshot file.
    public var bitFlipRate = 0.0
    /// A running node's next fsync fails with EIO.
    public var syncErrorRate = 0.0
    /// A running node's next write fails with EIO.
    public var writeErrorRate = 0.0
    /// A running node's disk fills up (ENOSPC) a few kilobytes from now.
    public var diskFullRate = 0.0
    /// A crashed node's disk is lost; it comes back empty, as a new member.
    public var diskLossRate = 0.0
    /// A stretch of leader churn starts: every new leader crashes a few ticks after its
    /// election, leaving partly replicated suffixes of many terms on different nodes (the
    /// setting of Figure 8 in the Raft paper).
    public var leaderChurnRate = 0.0
    /// How long a crashed or stopped node stays down, in ticks.
    public var downtime: ClosedRange<UInt64> = 20...200

    /// No node or storage faults.
    public static let none = NodeFaults()

    /// Creates a profile; every rate defaults to zero.
    public init() {}

    /// Draws a profile for one seed. With `everyKind`, no kind is switched off: only the
    /// rates vary.
    public static func random(using random: inout SplitMix64, everyKind: Bool = false) -> NodeFaults {
        var faults = NodeFaults()
        func rate(_ range: ClosedRange<Double>, _ random: inout SplitMix64) -> Double {
            everyKind || Bool.random(using: &random) ? Double.random(in: range, using: &random) : 0
        }
        faults.crashRate = rate(0.0005...0.004, &random)
        faults.powerLossRate = rate(0.00005...0.0003, &random)
        faults.bitFlipRate = rate(0.05...0.5, &random)
        faults.syncErrorRate = rate(0.0001...0.001, &random)
        faults.writeErrorRate = rate(0.0001...0.001, &random)
        faults.diskFullRate = rate(0.0001...0.0008, &random)
        faults.diskLossRate = rate(0.02...0.2, &random)
        faults.leaderChurnRate = rate(0.0002...0.001, &random)
        let shortest = UInt64.random(in: 5...50, using: &random)
        faults.downtime = shortest...(shortest + UInt64.random(in: 0...300, using: &random))
        return faults
    }

    /// Every kind on, at a moderate rate, for targeted tests.
    public static let all: NodeFaults = {
        var faults = NodeFaults()
        faults.crashRate = 0.002
        faults.powerLossRate = 0.0001
        faults.bitFlipRate = 0.2
        faults.syncErrorRate = 0.0005
        faults.writeErrorRate = 0.0005
        faults.diskFullRate = 0.0003
        faults.diskLossRate = 0.1
        faults.leaderChurnRate = 0.0005
        return faults
    }()
}

/// The kinds of node and storage fault, as counted in a simulation's summary.
public enum NodeFaultKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case crash
    case powerLoss
    case bitFlipLog
    case bitFlipSnapshot
    case syncError
    case writeError
    case diskFull
    case diskLoss
    /// A stretch of leader churn.
    case leaderChurn
    /// A node that stopped itself with a typed error (a failed fsync, corruption found…).
    case nodeStopped
    /// A node that could not recover from its disk and was replaced by a new member.
    case unrecoverableDisk

    public static func < (lhs: NodeFaultKind, rhs: NodeFaultKind) -> Bool { lhs.rawValue < rhs.rawValue }
}
