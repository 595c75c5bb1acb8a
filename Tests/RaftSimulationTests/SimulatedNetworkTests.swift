import RaftCore
import RaftSimulation
import Testing

@Suite("Simulated network")
struct SimulatedNetworkTests {
    private typealias Network = SimulatedNetwork<Int>

    private static let stormy = NetworkFaults(
        lossRate: 0.1, duplicationRate: 0.1, delay: 1...10, reorderingRate: 0.1, maximumReorderingDelay: 30)

    /// Sends `count` messages round-robin among nodes 1...3, one per tick, delivering as it
    /// goes, and returns every delivery in order.
    private static func run(_ network: inout Network, count: Int) -> [Delivery<Int>] {
        var deliveries: [Delivery<Int>] = []
        for tick in 0..<UInt64(count) {
            let from = NodeID(tick % 3 + 1)
            network.send(Int(tick), from: from, to: from % 3 + 1, at: tick)
            deliveries += network.deliver(at: tick)
        }
        deliveries += network.deliver(at: .max)
        return deliveries
    }

    private static func summary(_ deliveries: [Delivery<Int>]) -> [[UInt64]] {
        deliveries.map { [$0.from, $0.to, UInt64($0.payload), $0.sentAt, $0.dueAt, $0.sequence] }
    }

    @Test("The same seed gives the same deliveries; another seed does not")
    func determinism() {
        var first = Network(seed: 42, faults: Self.stormy)
        var second = Network(seed: 42, faults: Self.stormy)
        var other = Network(seed: 43, faults: Self.stormy)
        let deliveries = Self.summary(Self.run(&first, count: 2_000))
        #expect(deliveries == Self.summary(Self.run(&second, count: 2_000)))
        #expect(deliveries != Self.summary(Self.run(&other, count: 2_000)))
        #expect(first.faultCounts == second.faultCounts)
    }

    @Test("A perfect network delivers everything once, a tick later, in send order")
    func perfectNetwork() {
        var network = Network(seed: 1)
        network.send(1, from: 1, to: 2, at: 0)
        network.send(2, from: 3, to: 2, at: 0)
        network.send(3, from: 2, to: 1, at: 1)
        #expect(network.deliver(at: 0).isEmpty)
        #expect(network.nextDueTick == 1)
        #expect(network.deliver(at: 1).map(\.payload) == [1, 2])
        #expect(network.deliver(at: 2).map(\.payload) == [3])
        #expect(network.pendingCount == 0 && network.deliveredCount == 3 && network.faultCounts.isEmpty)
    }

    @Test("Deliveries come out by due tick, then send sequence, within the delay bounds")
    func orderAndDelay() {
        var network = Network(
            seed: 7, faults: NetworkFaults(delay: 2...9, reorderingRate: 0.2, maximumReorderingDelay: 20))
        let deliveries = Self.run(&network, count: 3_000)
        #expect(deliveries.count == 3_000)
        for (earlier, later) in zip(deliveries, deliveries.dropFirst()) {
            #expect((earlier.dueAt, earlier.sequence) < (later.dueAt, later.sequence))
        }
        #expect(deliveries.allSatisfy { (2...29).contains($0.dueAt - $0.sentAt) })
        let overtaken = zip(deliveries, deliveries.dropFirst()).contains { $0.payload > $1.payload }
        #expect(overtaken, "random delays should reorder some messages")
        #expect((network.faultCounts[.reordering] ?? 0) > 400)
    }

    @Test("Loss and duplication rates are roughly honoured")
    func rates() {
        var lossy = Network(seed: 3, faults: NetworkFaults(lossRate: 0.2))
        let lossyDelivered = Self.run(&lossy, count: 20_000).count
        #expect((15_400...16_600).contains(lossyDelivered))
        #expect(lossy.faultCounts[.loss] == 20_000 - lossyDelivered)

        var duplicating = Network(seed: 4, faults: NetworkFaults(duplicationRate: 0.1))
        let duplicates = Self.run(&duplicating, count: 20_000)
        #expect((21_700...22_300).contains(duplicates.count))
        #expect(duplicating.faultCounts[.duplication] == duplicates.count - 20_000)
        #expect(Set(duplicates.map(\.sequence)).count == duplicates.count)
    }

    @Test("A symmetric partition cuts both directions between the sides, and nothing else")
    func symmetricPartition() {
        var network = Network(seed: 5)
        network.partition([1], from: [2, 3])
        #expect(
            network.blockedLinks == [
                Link(from: 1, to: 2), Link(from: 2, to: 1), Link(from: 1, to: 3), Link(from: 3, to: 1),
            ])
        for from in 1...3 as ClosedRange<NodeID> {
            for to in 1...3 as ClosedRange<NodeID> where from != to {
                network.send(Int(from * 10 + to), from: from, to: to, at: 0)
            }
        }
        #expect(Set(network.deliver(at: 1).map(\.payload)) == [23, 32])
        #expect(network.faultCounts[.blocked] == 4 && network.faultCounts[.partition] == 1)
    }

    @Test("An asymmetric partition cuts one direction only")
    func asymmetricPartition() {
        var network = Network(seed: 6)
        network.partitionOneWay(from: [1], to: [2])
        #expect(network.isBlocked(from: 1, to: 2))
        #expect(!network.isBlocked(from: 2, to: 1))
        network.send(12, from: 1, to: 2, at: 0)
        network.send(21, from: 2, to: 1, at: 0)
        network.send(13, from: 1, to: 3, at: 0)
        #expect(network.deliver(at: 1).map(\.payload) == [21, 13])
    }

    @Test("Isolating a node cuts it off, in flight too, and healing restores delivery")
    func isolationAndHeal() {
        var network = Network(seed: 8, faults: NetworkFaults(delay: 5...5))
        network.send(1, from: 1, to: 2, at: 0)
        network.isolate(1, from: [1, 2, 3])
        network.send(2, from: 2, to: 1, at: 0)
        network.send(3, from: 2, to: 3, at: 0)
        #expect(network.deliver(at: 5).map(\.payload) == [3])
        network.heal()
        #expect(network.blockedLinks.isEmpty)
        network.send(4, from: 1, to: 2, at: 10)
        network.send(5, from: 2, to: 1, at: 10)
        #expect(network.deliver(at: 15).map(\.payload) == [4, 5])
        #expect(network.faultCounts[.isolation] == 1 && network.faultCounts[.heal] == 1)
    }

    @Test("The queue is bounded, and what it drops is counted")
    func queueBound() {
        var network = Network(seed: 9, capacity: 10)
        for payload in 0..<15 { network.send(payload, from: 1, to: 2, at: 0) }
        #expect(network.pendingCount == 10)
        #expect(network.faultCounts[.overflow] == 5)
        #expect(network.deliver(at: 1).map(\.payload) == Array(0..<10))
        network.send(99, from: 1, to: 2, at: 1)
        #expect(network.pendingCount == 1)
    }

    @Test("A paused node's messages wait for it in order; what it sends is dropped")
    func pause() {
        var network = Network(seed: 10)
        network.pause(2)
        network.send(1, from: 1, to: 2, at: 0)
        network.send(2, from: 3, to: 2, at: 1)
        network.send(3, from: 2, to: 1, at: 1)
        network.send(4, from: 1, to: 3, at: 1)
        #expect(network.deliver(at: 5).map(\.payload) == [4])
        #expect(network.pendingCount == 2)
        network.resume(2)
        #expect(network.deliver(at: 6).map(\.payload) == [1, 2])
        #expect(network.faultCounts[.pause] == 1 && network.faultCounts[.pausedSend] == 1)
    }

    @Test("A clogged link holds its messages until unclogged")
    func clog() {
        var network = Network(seed: 11)
        network.clog(Link(from: 1, to: 2))
        network.send(1, from: 1, to: 2, at: 0)
        network.send(2, from: 2, to: 1, at: 0)
        #expect(network.deliver(at: 3).map(\.payload) == [2])
        network.send(3, from: 1, to: 2, at: 3)
        #expect(network.deliver(at: 10).isEmpty)
        network.unclog(Link(from: 1, to: 2))
        #expect(network.deliver(at: 10).map(\.payload) == [1, 3])
    }

    @Test("A swizzle clogs links one at a time, then unclogs them all in another order")
    func swizzle() {
        var random = SplitMix64(seed: 12)
        var swizzle = SwizzleClog(nodes: [1, 2, 3, 4, 5], interval: 3, using: &random)
        var network = Network(seed: 12)
        var clogged: [String] = []
        var unclogged: [String] = []
        var peak = 0
        var tick: UInt64 = 0
        while !swizzle.isFinished {
            if let line = swizzle.step(&network, at: tick) {
                #expect(tick % 3 == 0)
                if line.contains("unclog") { unclogged.append(line) } else { clogged.append(line) }
            }
            peak = max(peak, network.cloggedLinks.count)
            tick += 1
        }
        #expect(!clogged.isEmpty && clogged.count == unclogged.count && peak == clogged.count)
        #expect(clogged.count % 2 == 0 && clogged.count >= 8)
        #expect(network.cloggedLinks.isEmpty)
        let clogOrder = clogged.map { $0.split(separator: " ").last! }
        let unclogOrder = unclogged.map { $0.split(separator: " ").last! }
        #expect(Set(clogOrder) == Set(unclogOrder) && clogOrder != unclogOrder)
    }

    @Test("The nemesis runs episodes at the profile's rates, heals after each, and replays by seed")
    func nemesis() {
        let faults = NetworkFaults(
            partitionRate: 0.01, asymmetricPartitionRate: 0.01, isolationRate: 0.01, swizzleRate: 0.01, pauseRate: 0.01,
            episodeLength: 10...50, swizzleInterval: 2)
        func trace(seed: UInt64) -> ([String], Network) {
            var nemesis = NetworkNemesis(nodes: [1, 2, 3, 4, 5], faults: faults, seed: seed)
            var network = Network(seed: seed)
            var lines: [String] = []
            for tick in 0..<UInt64(20_000) {
                lines += nemesis.step(&network, at: tick, leader: NodeID(tick / 1_000 % 5 + 1))
            }
            nemesis.stop(&network)
            return (lines, network)
        }
        let (lines, network) = trace(seed: 13)
        #expect(lines == trace(seed: 13).0)
        for kind in [NetworkFaultKind.partition, .asymmetricPartition, .isolation, .clog, .pause, .heal] {
            #expect((network.faultCounts[kind] ?? 0) > 0, "no \(kind)")
        }
        #expect(network.blockedLinks.isEmpty && network.cloggedLinks.isEmpty && network.pausedNodes.isEmpty)
        #expect(network.faultCountsByName["heal"] == network.faultCounts[.heal])
    }

    @Test("Swarm profiles differ by seed, are reproducible, and switch faults off for some seeds")
    func swarmProfiles() {
        let profiles = (0..<200 as Range<UInt64>).map { seed in
            var random = SplitMix64(seed: seed)
            return NetworkFaults.random(using: &random)
        }
        var again = SplitMix64(seed: 7)
        #expect(NetworkFaults.random(using: &again) == profiles[7])
        #expect(profiles.contains { $0.lossRate == 0 } && profiles.contains { $0.lossRate > 0.05 })
        #expect(profiles.contains { $0.partitionRate == 0 } && profiles.contains { $0.partitionRate > 0 })
        #expect(profiles.contains { !$0.hasEpisodes } && profiles.contains { $0.swizzleRate > 0 })
        #expect(Set(profiles).count == profiles.count)
        #expect(!NetworkFaults.none.hasEpisodes && NetworkFaults.none.lossRate == 0)
    }
}
