import Foundation
import Testing
@testable import RaftCore

/// Seeded random runs of whole clusters with message loss, duplication and
/// reordering, partitions, crashes (including mid-persist) and log
/// compaction. Safety invariants are checked after every step; after the
/// faults stop, the cluster must elect a leader and commit a new entry.
@Suite("Randomized safety")
struct RandomizedSafetyTests {
    /// Seeds per cluster size; raise with RAFT_SEEDS for long runs.
    static let seedsPerSize = Int(ProcessInfo.processInfo.environment["RAFT_SEEDS"] ?? "") ?? 500
    static let faultSteps = Int(ProcessInfo.processInfo.environment["RAFT_STEPS"] ?? "") ?? 1000

    @Test("3-node clusters keep every safety invariant under faults")
    func threeNodes() {
        for seed in 0..<UInt64(Self.seedsPerSize) {
            if let failure = Self.run(seed: seed, nodes: 3) {
                Issue.record("seed \(seed) (3 nodes; rerun with this seed): \(failure)")
                return
            }
        }
    }

    @Test("5-node clusters keep every safety invariant under faults")
    func fiveNodes() {
        for seed in 0..<UInt64(Self.seedsPerSize) {
            if let failure = Self.run(seed: 1_000_000 + seed, nodes: 5) {
                Issue.record("seed \(1_000_000 + seed) (5 nodes; rerun with this seed): \(failure)")
                return
            }
        }
    }

    /// Runs one seeded simulation; returns the first violation, if any.
    static func run(seed: UInt64, nodes: UInt64) -> String? {
        var random = SplitMix64(seed: seed)
        let options = RaftOptions(
            electionTicks: 10,
            heartbeatTicks: 2,
            preVote: Bool.random(using: &random),
            checkQuorum: Bool.random(using: &random),
            maxInflightMessages: 4,
            maxInflightBytes: 1024,
            // Small messages split runs of entries across appends, which is
            // what exposes commit-rule bugs (Figure 8).
            maxMessageBytes: [1, 60, 200, 4096].randomElement(using: &random) ?? 1
        )
        var cluster = TestCluster(voters: Array(1...nodes), options: options, seed: seed)
        var checker = InvariantChecker()
        var proposals = 0
        for step in 0..<faultSteps {
            let roll = Int.random(in: 0..<100, using: &random)
            switch roll {
            case 0..<38:
                // Deliver a random queued message: the network reorders.
                if !cluster.network.isEmpty {
                    let position = Int.random(in: 0..<cluster.network.count, using: &random)
                    let message = cluster.network.remove(at: position)
                    cluster.deliver(message)
                }
            case 38..<42:
                // Duplicate: deliver a copy and keep the original queued.
                if let message = cluster.network.randomElement(using: &random) {
                    cluster.deliver(message)
                }
            case 42..<48:
                // Lose a message.
                if !cluster.network.isEmpty {
                    cluster.lose(cluster.network.remove(at: Int.random(in: 0..<cluster.network.count, using: &random)))
                }
            case 48..<78:
                let id = UInt64.random(in: 1...nodes, using: &random)
                cluster.tick(id)
            case 78..<88:
                if let leader = cluster.leaders.randomElement(using: &random) {
                    proposals += 1
                    let batch = (0..<Int.random(in: 1...3, using: &random)).map { Array("s\(seed)-\(step)-\($0)".utf8) }
                    try? cluster.replicas[leader]!.propose(batch: batch)
                    cluster.process(leader)
                }
            case 88..<91:
                cluster.heal()
                let members = Array(1...nodes).shuffled(using: &random)
                let cut = Int.random(in: 1...Int(nodes / 2), using: &random)
                cluster.partition([Array(members[..<cut]), Array(members[cut...])])
            case 91..<94:
                cluster.heal()
            case 94..<96:
                // Crash a random node, or preferably a leader, whose
                // replacement is where the subtle bugs (Figure 8) live.
                let id = cluster.leaders.randomElement(using: &random) ?? UInt64.random(in: 1...nodes, using: &random)
                cluster.restart(id, seed: random.next())
                checker.nodeRestarted(id)
            case 96..<97:
                crashWhilePersisting(&cluster, checker: &checker, random: &random)
            default:
                let id = UInt64.random(in: 1...nodes, using: &random)
                cluster.compact(id)
            }
            if let violation = cluster.contractViolations.first {
                return "step \(step): persistence contract: \(violation)"
            }
            if let violation = checker.check(cluster) {
                return "step \(step): \(violation)"
            }
        }
        return checkLiveness(&cluster, checker: &checker)
    }

    /// A node receives a message and crashes while persisting the result:
    /// either nothing reached the disk, or everything did but no message left.
    static func crashWhilePersisting(_ cluster: inout TestCluster, checker: inout InvariantChecker, random: inout SplitMix64) {
        guard !cluster.network.isEmpty else { return }
        let message = cluster.network.remove(at: Int.random(in: 0..<cluster.network.count, using: &random))
        guard var replica = cluster.replicas[message.to] else { return }
        replica.step(message)
        let ready = replica.ready()
        if Bool.random(using: &random) {
            replica.updateStorage { storage in
                if let snapshot = ready.snapshot { storage.install(snapshot) }
                storage.append(ready.entries)
                if let state = ready.hardState { storage.hardState = state }
            }
        }
        cluster.replicas[message.to] = replica
        cluster.restart(message.to, seed: random.next())
        checker.nodeRestarted(message.to)
        // The transfer ended with the crash (the call only acts on snapshots).
        cluster.lose(message)
    }

    /// With the network healed and reliable, a leader must emerge and a new
    /// entry must reach every node's state machine.
    static func checkLiveness(_ cluster: inout TestCluster, checker: inout InvariantChecker) -> String? {
        cluster.heal()
        let marker = Array("liveness".utf8)
        var proposed = false
        for round in 0..<600 {
            cluster.tickAll()
            if let violation = checker.check(cluster) {
                return "liveness phase round \(round): \(violation)"
            }
            // Propose (again, every 50 rounds, in case leadership changed
            // and the proposal was lost).
            if let leader = cluster.leaders.first, !proposed || round % 50 == 0 {
                proposed = (try? cluster.replicas[leader]!.propose(marker)) != nil || proposed
                cluster.deliverAll()
            }
            if proposed, cluster.ids.allSatisfy({ id in cluster.applied[id]!.contains { $0.data == marker } }) {
                return nil
            }
        }
        let states = cluster.ids.map { id in
            let replica = cluster[id]
            let progress = replica.status.progress.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.match)/\($0.value.next)/\($0.value.state)" }
            return "\(id): \(replica.role) term \(replica.term) commit \(replica.commitIndex) log \(replica.storage.firstIndex)...\(replica.lastIndex) \(progress)"
        }
        return "liveness: no leader committed a new entry after the faults stopped (\(states))"
    }
}
