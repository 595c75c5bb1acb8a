import Raft
import RaftCore
import WAL

/// Three node engines on `SimulatedFileSystem`s (zero-latency I/O) with a perfect network,
/// for measuring what the runtime costs on top of the pure core: the same work as the core's
/// in-process benchmark, but through `Ready` handling, the WAL, the snapshot store, the
/// envelope codec and RaftKV's state machine.
///
/// It measures the runtime, not the simulator's checks: the state machine is the one
/// `raftkv` serves (not the recording one, which hashes every command), and envelopes are
/// encoded and decoded as a network would carry them, without comparing the result.
public final class ThroughputCluster {
    typealias Engine = NodeEngine<SimulatedFileSystem, KVStateMachine, SimulatedTransport>

    private var engines: [Engine] = []
    private let outbox = SimulatedTransport.Outbox(comparesRoundTrip: false)
    private var leader = 0
    private var applied = 0

    private init() {}

    /// Starts the cluster and elects node 1.
    public static func start() async throws -> ThroughputCluster {
        let cluster = ThroughputCluster()
        for id in 1...3 as ClosedRange<NodeID> {
            var configuration = RaftNodeConfiguration.simulated(
                id: id, bootstrap: .newCluster(voters: [1, 2, 3]), randomSeed: id)
            configuration.raft.electionTicks = id == 1 ? 2 : 1_000
            configuration.snapshotEntryThreshold = 50_000
            cluster.engines.append(
                try await Engine.open(
                    configuration: configuration, fileSystem: SimulatedFileSystem(seed: id),
                    stateMachine: KVStateMachine(), transport: SimulatedTransport(outbox: cluster.outbox),
                    writes: .held))
        }
        for _ in 0..<100 where cluster.engines[0].role != .leader {
            await cluster.engines[0].tick()
            await cluster.deliver()
        }
        guard cluster.engines[0].role == .leader else { throw RaftNodeError.notLeader(leader: nil) }
        return cluster
    }

    /// Proposes `count` puts of `size`-byte values on the leader, `batch` at a time, each batch
    /// delivered until every entry is applied on the leader. Returns the entries applied.
    public func run(count: Int, size: Int, batch: Int) async -> Int {
        let value = [UInt8](repeating: 0xAB, count: size)
        var proposed = 0
        let before = applied
        while proposed < count {
            var proposals: [(command: [UInt8], completion: Engine.ProposalCompletion)] = []
            for _ in 0..<min(batch, count - proposed) {
                let command = KVCommand.put(key: "k\(proposed % 1024)", value: value).encoded()
                proposals.append((command, { [weak self] result in if case .success = result { self?.applied += 1 } }))
                proposed += 1
            }
            await engines[leader].propose(batch: proposals)
            await deliver()
        }
        return applied - before
    }

    /// Delivers every envelope and completes every write (the disk takes no time), and
    /// everything they cause, until the cluster is quiet.
    private func deliver() async {
        while true {
            for engine in engines where engine.heldWriteCount > 0 { await engine.releaseHeldWrites() }
            let envelopes = outbox.take()
            let failures = outbox.takeCodecFailures()
            precondition(failures.isEmpty, "the envelope codec failed: \(failures)")
            guard !envelopes.isEmpty else {
                if engines.allSatisfy({ $0.heldWriteCount == 0 }) { return }
                continue
            }
            for envelope in envelopes {
                await engines[Int(envelope.to) - 1].receive(envelope)
            }
        }
    }
}
