import RaftCore

/// A deterministic, seeded network between simulated nodes, with faults.
///
/// Time is virtual: the harness passes the current tick to every call. A message sent at
/// tick `t` becomes due at `t + delay`, and `deliver(at:)` returns every message due by
/// then, ordered by due tick and then by send sequence. The same seed and the same calls
/// give the same deliveries.
///
/// Faults:
/// - Loss, duplication, delay and reordering are drawn per message from ``faults``.
/// - A *blocked* link (a partition) drops messages, both those sent on it and those still
///   in flight when they fall due.
/// - A *clogged* link holds its messages; they are delivered, in order, once it is
///   unclogged.
/// - A *paused* node is a frozen machine: messages to it are held until it resumes, and
///   messages it tries to send are dropped (a frozen machine sends nothing; the harness
///   should not tick it either). Messages it sent before the pause are still delivered.
///
/// The queue is bounded: a message sent while ``capacity`` messages are queued or held is
/// dropped and counted as ``NetworkFaultKind/overflow``.
public struct SimulatedNetwork<Payload: Sendable>: Sendable {
    /// The per-message faults applied to every send from now on.
    public var faults: NetworkFaults
    /// The most messages queued and held at once.
    public let capacity: Int

    /// Links that drop every message.
    public private(set) var blockedLinks: Set<Link> = []
    /// Links that hold every message until unclogged.
    public private(set) var cloggedLinks: Set<Link> = []
    /// Nodes that are paused.
    public private(set) var pausedNodes: Set<NodeID> = []
    /// Faults injected so far, by kind.
    public private(set) var faultCounts: [NetworkFaultKind: Int] = [:]
    /// Messages accepted by `send`, before any fault.
    public private(set) var sentCount = 0
    /// Messages handed out by `deliver`, duplicates included.
    public private(set) var deliveredCount = 0

    private var random: SplitMix64
    private var queue = MessageQueue<Payload>()
    private var held: [Delivery<Payload>] = []
    private var nextSequence: UInt64 = 0

    /// Creates an empty network.
    ///
    /// - Parameters:
    ///   - seed: Determines every random choice the network makes.
    ///   - faults: The per-message faults to apply.
    ///   - capacity: The most messages in flight at once; more are dropped.
    public init(seed: UInt64, faults: NetworkFaults = .none, capacity: Int = 100_000) {
        precondition(capacity > 0, "a network must be able to hold a message")
        self.random = SplitMix64(seed: seed)
        self.faults = faults
        self.capacity = capacity
    }

    /// Messages queued or held, not yet delivered or dropped.
    public var pendingCount: Int { queue.count + held.count }

    /// The earliest tick at which a queued message falls due, or `nil` when nothing is
    /// queued. Held messages are not counted: they wait for an unclog, resume or heal.
    public var nextDueTick: UInt64? { queue.first?.dueAt }

    /// The fault counts keyed by kind name, for a JSON summary.
    public var faultCountsByName: [String: Int] {
        Dictionary(uniqueKeysWithValues: faultCounts.map { ($0.key.rawValue, $0.value) })
    }

    // MARK: Traffic

    /// Sends a message, applying loss, duplication and delay.
    public mutating func send(_ payload: Payload, from sender: NodeID, to receiver: NodeID, at now: UInt64) {
        sentCount += 1
        if pausedNodes.contains(sender) {
            count(.pausedSend)
            return
        }
        if blockedLinks.contains(Link(from: sender, to: receiver)) {
            count(.blocked)
            return
        }
        if faults.lossRate > 0, Double.random(in: 0..<1, using: &random) < faults.lossRate {
            count(.loss)
            return
        }
        enqueue(payload, from: sender, to: receiver, at: now)
        if faults.duplicationRate > 0, Double.random(in: 0..<1, using: &random) < faults.duplicationRate {
            count(.duplication)
            enqueue(payload, from: sender, to: receiver, at: now)
        }
    }

    /// Removes and returns every message due by `now` that can be delivered, ordered by
    /// due tick and then by send sequence.
    public mutating func deliver(at now: UInt64) -> [Delivery<Payload>] {
        var deliveries: [Delivery<Payload>] = []
        while let first = queue.first, first.dueAt <= now {
            let delivery = queue.removeFirst()!
            let link = Link(from: delivery.from, to: delivery.to)
            if blockedLinks.contains(link) {
                count(.blocked)
            } else if cloggedLinks.contains(link) || pausedNodes.contains(delivery.to) {
                held.append(delivery)
            } else {
                deliveries.append(delivery)
            }
        }
        deliveredCount += deliveries.count
        return deliveries
    }

    private mutating func enqueue(_ payload: Payload, from sender: NodeID, to receiver: NodeID, at now: UInt64) {
        guard pendingCount < capacity else {
            count(.overflow)
            return
        }
        var delay = UInt64.random(in: faults.delay, using: &random)
        if faults.reorderingRate > 0, faults.maximumReorderingDelay > 0,
            Double.random(in: 0..<1, using: &random) < faults.reorderingRate
        {
            count(.reordering)
            delay += UInt64.random(in: 1...faults.maximumReorderingDelay, using: &random)
        }
        queue.insert(
            Delivery(
                from: sender, to: receiver, payload: payload, sentAt: now, dueAt: now + delay, sequence: nextSequence)
        )
        nextSequence += 1
    }

    // MARK: Partitions

    /// Cuts one directed link: messages on it are dropped until it is restored.
    public mutating func block(_ link: Link) {
        blockedLinks.insert(link)
    }

    /// Restores one directed link.
    public mutating func unblock(_ link: Link) {
        blockedLinks.remove(link)
    }

    /// Whether messages from `sender` to `receiver` are currently dropped.
    public func isBlocked(from sender: NodeID, to receiver: NodeID) -> Bool {
        blockedLinks.contains(Link(from: sender, to: receiver))
    }

    /// Cuts every link between the two groups, in both directions.
    public mutating func partition(_ side: some Sequence<NodeID>, from otherSide: some Sequence<NodeID>) {
        count(.partition)
        let otherSide = Array(otherSide)
        for node in side {
            for other in otherSide where other != node {
                blockedLinks.insert(Link(from: node, to: other))
                blockedLinks.insert(Link(from: other, to: node))
            }
        }
    }

    /// Cuts every link from `senders` to `receivers`, and only in that direction: the
    /// receivers can still reach the senders.
    public mutating func partitionOneWay(from senders: some Sequence<NodeID>, to receivers: some Sequence<NodeID>) {
        count(.asymmetricPartition)
        let receivers = Array(receivers)
        for sender in senders {
            for receiver in receivers where receiver != sender {
                blockedLinks.insert(Link(from: sender, to: receiver))
            }
        }
    }

    /// Cuts `node` off from every one of `others`, in both directions.
    public mutating func isolate(_ node: NodeID, from others: some Sequence<NodeID>) {
        count(.isolation)
        for other in others where other != node {
            blockedLinks.insert(Link(from: node, to: other))
            blockedLinks.insert(Link(from: other, to: node))
        }
    }

    // MARK: Clogs and pauses

    /// Holds every message on `link` until it is unclogged.
    public mutating func clog(_ link: Link) {
        if cloggedLinks.insert(link).inserted {
            count(.clog)
        }
    }

    /// Lets `link` carry messages again, starting with those it held.
    public mutating func unclog(_ link: Link) {
        if cloggedLinks.remove(link) != nil {
            releaseHeld()
        }
    }

    /// Freezes `node`: messages to it are held and messages from it are dropped.
    public mutating func pause(_ node: NodeID) {
        if pausedNodes.insert(node).inserted {
            count(.pause)
        }
    }

    /// Thaws `node`: it receives the messages held for it at the next `deliver(at:)`.
    public mutating func resume(_ node: NodeID) {
        if pausedNodes.remove(node) != nil {
            releaseHeld()
        }
    }

    /// Restores every link, unclogs every link and resumes every node. Messages already
    /// dropped stay dropped; held messages are delivered at the next `deliver(at:)`.
    public mutating func heal() {
        count(.heal)
        blockedLinks.removeAll()
        cloggedLinks.removeAll()
        pausedNodes.removeAll()
        releaseHeld()
    }

    // Held messages keep their due tick and sequence, so they go out first and in order;
    // `deliver` holds again any that are still stuck.
    private mutating func releaseHeld() {
        for delivery in held {
            queue.insert(delivery)
        }
        held.removeAll()
    }

    private mutating func count(_ kind: NetworkFaultKind) {
        faultCounts[kind, default: 0] += 1
    }
}
