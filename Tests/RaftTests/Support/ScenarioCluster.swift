import Raft
import RaftCore
import RaftSimulation
import WAL

/// A small cluster of node engines on `SimulatedFileSystem`s with a perfect network, for
/// scripted scenarios: every envelope is delivered in send order unless a test holds it back.
final class ScenarioCluster {
    typealias Engine = NodeEngine<SimulatedFileSystem, KVStateMachine, QueueTransport>

    final class Member {
        let id: NodeID
        let fileSystem: SimulatedFileSystem
        var engine: Engine?
        var configure: (inout RaftNodeConfiguration) -> Void

        init(id: NodeID, fileSystem: SimulatedFileSystem, configure: @escaping (inout RaftNodeConfiguration) -> Void) {
            self.id = id
            self.fileSystem = fileSystem
            self.configure = configure
        }
    }

    /// Envelopes in flight, in send order.
    final class Queue {
        var envelopes: [Envelope] = []
    }

    struct QueueTransport: Transport {
        let queue: Queue
        func send(_ envelopes: [Envelope]) { queue.envelopes.append(contentsOf: envelopes) }
    }

    let voters: Set<NodeID>
    private(set) var members: [NodeID: Member] = [:]
    let queue = Queue()
    /// Decides, envelope by envelope, whether it is delivered (true) or dropped (false).
    var filter: (Envelope) -> Bool = { _ in true }
    /// Nodes whose log writes stay in flight until a test releases them
    /// (`engine(id)?.releaseHeldWrites()`); everyone else's complete at once.
    var holdsWrites: Set<NodeID> = []

    init(voters: [NodeID], seed: UInt64, configure: @escaping (inout RaftNodeConfiguration) -> Void = { _ in }) async throws {
        self.voters = Set(voters)
        for id in voters {
            members[id] = Member(id: id, fileSystem: SimulatedFileSystem(seed: seed &+ id), configure: configure)
            try await start(id)
        }
    }

    func member(_ id: NodeID) -> Member { members[id]! }

    func engine(_ id: NodeID) -> Engine? { members[id]?.engine }

    func start(_ id: NodeID) async throws(RaftNodeError) {
        let member = member(id)
        var configuration = RaftNodeConfiguration.simulated(
            id: id, bootstrap: .newCluster(voters: voters), randomSeed: id &* 7919)
        configuration.raft.electionTicks = 10
        configuration.wal.segmentSize = 8192
        configuration.snapshots.blockSize = 512
        member.configure(&configuration)
        member.engine = try await Engine.open(
            configuration: configuration, fileSystem: member.fileSystem, stateMachine: KVStateMachine(),
            transport: QueueTransport(queue: queue), writes: .held)
    }

    /// Kills a node: its unsynced writes are lost or torn.
    func crash(_ id: NodeID) {
        let member = member(id)
        member.fileSystem.crash()
        member.engine = nil
    }

    /// Completes every held write and delivers everything in flight, and what that causes,
    /// until the cluster is quiet.
    func deliverAll() async {
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            await completeWrites()
            guard !queue.envelopes.isEmpty else { return }
            let envelope = queue.envelopes.removeFirst()
            guard filter(envelope), let engine = engine(envelope.to) else { continue }
            await engine.receive(envelope)
        }
    }

    /// Makes every node's held writes durable (a disk with no latency).
    func completeWrites() async {
        for id in members.keys.sorted() where !holdsWrites.contains(id) {
            guard let engine = engine(id), engine.heldWriteCount > 0 else { continue }
            await engine.releaseHeldWrites()
        }
    }

    /// Ticks every running node `count` times, delivering messages after each tick.
    func tick(_ count: Int = 1) async {
        for _ in 0..<count {
            for id in members.keys.sorted() {
                await engine(id)?.tick()
            }
            await deliverAll()
        }
    }

    var leader: NodeID? {
        members.keys.sorted().first { engine($0)?.role == .leader }
    }

    /// Ticks until a leader is elected; returns it.
    func electLeader(maxTicks: Int = 500) async -> NodeID? {
        for _ in 0..<maxTicks {
            if let leader { return leader }
            await tick()
        }
        return leader
    }

    /// Proposes a put on `id` and ticks until it completes; nil if it did not within
    /// `maxTicks`.
    func put(_ key: String, _ value: String, on id: NodeID, maxTicks: Int = 200) async -> Result<KVResult, RaftNodeError>? {
        guard let engine = engine(id) else { return nil }
        let outcome = Outcome()
        await engine.propose(KVCommand.put(key: key, value: Array(value.utf8)).encoded()) { outcome.result = $0 }
        await deliverAll()
        for _ in 0..<maxTicks where outcome.result == nil { await tick() }
        return outcome.result
    }

    final class Outcome {
        var result: Result<KVResult, RaftNodeError>?
    }
}
