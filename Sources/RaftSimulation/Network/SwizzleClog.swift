import RaftCore

/// FoundationDB's "swizzle-clogging": links stop one at a time, then come back one at a
/// time in a different random order.
///
/// Clogging links gradually, rather than cutting a partition at once, drives a cluster
/// through long sequences of half-connected states that clean partitions never produce.
/// The harness creates one and calls ``step(_:at:)`` every tick until ``isFinished``.
public struct SwizzleClog: Sendable {
    private var toClog: [Link]
    private var toUnclog: [Link]
    private let interval: UInt64
    private var nextStepAt: UInt64?

    /// Plans a swizzle over the links touching a random non-empty subset of `nodes`.
    ///
    /// - Parameters:
    ///   - nodes: The cluster's nodes.
    ///   - interval: Ticks between two clogs, and between two unclogs.
    ///   - random: The generator that picks the nodes and both orders.
    public init(nodes: [NodeID], interval: UInt64, using random: inout SplitMix64) {
        let members = nodes.sorted()
        var chosen = members.filter { _ in Bool.random(using: &random) }
        if chosen.isEmpty, let any = members.randomElement(using: &random) {
            chosen = [any]
        }
        var links: Set<Link> = []
        for node in chosen {
            for other in members where other != node {
                links.insert(Link(from: node, to: other))
                links.insert(Link(from: other, to: node))
            }
        }
        toClog = links.sorted().shuffled(using: &random)
        toUnclog = toClog.shuffled(using: &random)
        self.interval = max(interval, 1)
    }

    /// Whether every link has been clogged and unclogged again.
    public var isFinished: Bool { toClog.isEmpty && toUnclog.isEmpty }

    /// Clogs or unclogs the next link when its time has come.
    ///
    /// - Returns: A trace line describing what changed, or `nil` when nothing did.
    public mutating func step<Payload>(_ network: inout SimulatedNetwork<Payload>, at now: UInt64) -> String? {
        if let nextStepAt, now < nextStepAt { return nil }
        nextStepAt = now + interval
        if !toClog.isEmpty {
            let link = toClog.removeFirst()
            network.clog(link)
            return "swizzle: clog \(link)"
        }
        if !toUnclog.isEmpty {
            let link = toUnclog.removeFirst()
            network.unclog(link)
            return "swizzle: unclog \(link)"
        }
        return nil
    }
}
