import struct RaftCore.SplitMix64

/// How unreliable a ``SimulatedNetwork`` is, and how often a ``NetworkNemesis`` breaks it.
///
/// Per-message faults (loss, duplication, delay, reordering) are applied by the network
/// itself on every send. Episodes (partitions, isolation, swizzle-clogging, pauses) are
/// started by a ``NetworkNemesis``, at most one at a time, each with a per-tick probability
/// while the network is healthy.
public struct NetworkFaults: Sendable, Hashable {
    /// The probability that a message is dropped.
    public var lossRate: Double
    /// The probability that a message is delivered twice. The copy gets its own delay.
    public var duplicationRate: Double
    /// The range each message's delay is drawn from, in ticks. A delay of zero delivers a
    /// message at the tick it was sent, when the harness delivers after sending.
    public var delay: ClosedRange<UInt64>
    /// The probability that a message gets extra delay on top of ``delay``, so that
    /// messages sent after it overtake it.
    public var reorderingRate: Double
    /// The most extra delay a reordered message gets, in ticks.
    public var maximumReorderingDelay: UInt64

    /// The per-tick probability of cutting the cluster in two, both directions.
    public var partitionRate: Double
    /// The per-tick probability of cutting links one way only.
    public var asymmetricPartitionRate: Double
    /// The per-tick probability of cutting one node (the leader, when one is known) off
    /// from all others.
    public var isolationRate: Double
    /// The per-tick probability of starting a swizzle-clog (see ``SwizzleClog``).
    public var swizzleRate: Double
    /// The per-tick probability of pausing a node.
    public var pauseRate: Double
    /// How long a partition, isolation or pause lasts, in ticks.
    public var episodeLength: ClosedRange<UInt64>
    /// Ticks between two steps of a swizzle-clog.
    public var swizzleInterval: UInt64

    /// Creates a fault profile; every parameter defaults to a perfect network.
    public init(
        lossRate: Double = 0,
        duplicationRate: Double = 0,
        delay: ClosedRange<UInt64> = 1...1,
        reorderingRate: Double = 0,
        maximumReorderingDelay: UInt64 = 0,
        partitionRate: Double = 0,
        asymmetricPartitionRate: Double = 0,
        isolationRate: Double = 0,
        swizzleRate: Double = 0,
        pauseRate: Double = 0,
        episodeLength: ClosedRange<UInt64> = 50...500,
        swizzleInterval: UInt64 = 10
    ) {
        self.lossRate = lossRate
        self.duplicationRate = duplicationRate
        self.delay = delay
        self.reorderingRate = reorderingRate
        self.maximumReorderingDelay = maximumReorderingDelay
        self.partitionRate = partitionRate
        self.asymmetricPartitionRate = asymmetricPartitionRate
        self.isolationRate = isolationRate
        self.swizzleRate = swizzleRate
        self.pauseRate = pauseRate
        self.episodeLength = episodeLength
        self.swizzleInterval = swizzleInterval
    }

    /// A perfect network: every message arrives exactly once, one tick after it was sent,
    /// in send order.
    public static let none = NetworkFaults()

    /// Whether any episode kind can start.
    public var hasEpisodes: Bool {
        partitionRate > 0 || asymmetricPartitionRate > 0 || isolationRate > 0 || swizzleRate > 0
            || pauseRate > 0
    }

    /// Draws a fault profile for one seed (swarm testing).
    ///
    /// Each fault kind is switched off for about half the seeds, and otherwise drawn from a
    /// wide range, so that some seeds see no loss and others heavy loss, some only
    /// partitions, and so on. A mix of every fault at a moderate rate finds fewer bugs than
    /// many different extreme mixes.
    ///
    /// With `everyKind`, no kind is switched off: only the rates vary.
    public static func random(using random: inout SplitMix64, everyKind: Bool = false) -> NetworkFaults {
        var faults = NetworkFaults()
        func on(_ random: inout SplitMix64) -> Bool { everyKind || Bool.random(using: &random) }
        if on(&random) {
            let heavy = random.next() % 4 == 0
            faults.lossRate = Double.random(in: heavy ? 0.05...0.3 : 0.001...0.05, using: &random)
        }
        if on(&random) {
            faults.duplicationRate = Double.random(in: 0.001...0.1, using: &random)
        }
        let minimumDelay = UInt64.random(in: 0...3, using: &random)
        let spread: UInt64 = Bool.random(using: &random) ? 0 : UInt64.random(in: 1...20, using: &random)
        faults.delay = minimumDelay...(minimumDelay + spread)
        if on(&random) {
            faults.reorderingRate = Double.random(in: 0.01...0.2, using: &random)
            faults.maximumReorderingDelay = UInt64.random(in: 5...100, using: &random)
        }
        func episodeRate(_ random: inout SplitMix64) -> Double {
            on(&random) ? Double.random(in: 0.0005...0.005, using: &random) : 0
        }
        faults.partitionRate = episodeRate(&random)
        faults.asymmetricPartitionRate = episodeRate(&random)
        faults.isolationRate = episodeRate(&random)
        faults.swizzleRate = episodeRate(&random)
        faults.pauseRate = episodeRate(&random)
        let shortest = UInt64.random(in: 10...100, using: &random)
        faults.episodeLength = shortest...(shortest + UInt64.random(in: 0...900, using: &random))
        faults.swizzleInterval = UInt64.random(in: 1...30, using: &random)
        return faults
    }
}
