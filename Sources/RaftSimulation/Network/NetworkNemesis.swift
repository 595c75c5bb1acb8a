import RaftCore

/// Starts and ends network fault episodes (partitions, isolation, swizzle-clogs, pauses)
/// at the rates a ``NetworkFaults`` profile gives.
///
/// At most one episode runs at a time. Each ends with ``SimulatedNetwork/heal()``, so the
/// cluster always gets healthy stretches in which to make progress. The harness calls
/// ``step(_:at:leader:)`` once per tick while faults are on, and ``stop(_:)`` before the
/// liveness phase. Paused nodes are listed in ``SimulatedNetwork/pausedNodes``; the harness
/// should not tick them.
public struct NetworkNemesis: Sendable {
    private enum Episode: Sendable {
        case timed(endsAt: UInt64)
        case swizzle(SwizzleClog)
    }

    private let nodes: [NodeID]
    private let faults: NetworkFaults
    private var random: SplitMix64
    private var episode: Episode?

    /// Creates a nemesis for a cluster of `nodes`.
    public init(nodes: [NodeID], faults: NetworkFaults, seed: UInt64) {
        self.nodes = nodes.sorted()
        self.faults = faults
        self.random = SplitMix64(seed: seed)
    }

    /// Whether an episode is under way.
    public var isActive: Bool { episode != nil }

    /// Advances the current episode, or maybe starts one.
    ///
    /// - Parameters:
    ///   - network: The network to break and heal.
    ///   - now: The current tick.
    ///   - leader: The current leader, if the harness knows one; isolation and pauses pick
    ///     it when given, since losing the leader is the interesting case.
    /// - Returns: Trace lines describing what changed.
    public mutating func step<Payload>(
        _ network: inout SimulatedNetwork<Payload>, at now: UInt64, leader: NodeID?
    ) -> [String] {
        switch episode {
        case .timed(let endsAt):
            guard now >= endsAt else { return [] }
            network.heal()
            episode = nil
            return ["nemesis: heal"]
        case .swizzle(var swizzle):
            let line = swizzle.step(&network, at: now)
            if swizzle.isFinished {
                network.heal()
                episode = nil
                return (line.map { [$0] } ?? []) + ["nemesis: heal"]
            }
            episode = .swizzle(swizzle)
            return line.map { [$0] } ?? []
        case nil:
            guard nodes.count > 1 else { return [] }
            return start(&network, at: now, leader: leader)
        }
    }

    /// Ends any episode and heals the network, for the liveness phase.
    public mutating func stop<Payload>(_ network: inout SimulatedNetwork<Payload>) {
        episode = nil
        network.heal()
    }

    private mutating func start<Payload>(
        _ network: inout SimulatedNetwork<Payload>, at now: UInt64, leader: NodeID?
    ) -> [String] {
        let endsAt = now + UInt64.random(in: faults.episodeLength, using: &random)
        if chance(faults.partitionRate) {
            let (side, other) = split()
            network.partition(side, from: other)
            episode = .timed(endsAt: endsAt)
            return ["nemesis: partition \(side) | \(other) until \(endsAt)"]
        }
        if chance(faults.asymmetricPartitionRate) {
            let (side, other) = split()
            network.partitionOneWay(from: side, to: other)
            episode = .timed(endsAt: endsAt)
            return ["nemesis: one-way partition \(side) -> \(other) until \(endsAt)"]
        }
        if chance(faults.isolationRate) {
            let node = target(leader)
            network.isolate(node, from: nodes)
            episode = .timed(endsAt: endsAt)
            return ["nemesis: isolate \(node) until \(endsAt)"]
        }
        if chance(faults.swizzleRate) {
            episode = .swizzle(SwizzleClog(nodes: nodes, interval: faults.swizzleInterval, using: &random))
            return ["nemesis: swizzle-clog"]
        }
        if chance(faults.pauseRate) {
            let node = target(leader)
            network.pause(node)
            episode = .timed(endsAt: endsAt)
            return ["nemesis: pause \(node) until \(endsAt)"]
        }
        return []
    }

    private mutating func chance(_ rate: Double) -> Bool {
        rate > 0 && Double.random(in: 0..<1, using: &random) < rate
    }

    private mutating func target(_ leader: NodeID?) -> NodeID {
        if let leader, nodes.contains(leader), Bool.random(using: &random) {
            return leader
        }
        return nodes.randomElement(using: &random)!
    }

    // Both sides are non-empty; the first is a minority or half, so a majority may remain.
    private mutating func split() -> (side: [NodeID], other: [NodeID]) {
        let shuffled = nodes.shuffled(using: &random)
        let size = Int.random(in: 1...(shuffled.count / 2), using: &random)
        return (Array(shuffled[..<size]).sorted(), Array(shuffled[size...]).sorted())
    }
}
