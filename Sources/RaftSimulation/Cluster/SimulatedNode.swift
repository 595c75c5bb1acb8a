import Raft
import RaftCore
import WAL

/// One member of a simulated cluster: its disk, which outlives crashes, and the engine
/// running on it while it is up.
final class SimulatedNode {
    typealias Engine = NodeEngine<SimulatedFileSystem, RecordingKVStateMachine, SimulatedTransport>

    enum State: Equatable {
        /// Running; `engine` is set.
        case up
        /// Crashed or stopped; restarts at the tick given.
        case down(until: UInt64)
        /// Added to the cluster's membership but not started yet.
        case waitingToJoin
        /// Removed for good (its disk was lost); never restarts.
        case retired
    }

    let id: NodeID
    let fileSystem: SimulatedFileSystem
    let bootstrap: Bootstrap
    let outbox = SimulatedTransport.Outbox()
    var engine: Engine?
    var state: State
    /// Restarts so far, to vary election jitter between incarnations.
    var incarnation: UInt64 = 0
    /// The commit index this incarnation last reported, which must never decrease.
    var lastCommit: UInt64 = 0
    /// The applied index whose state digest was last checked.
    var lastCheckedApplied: UInt64 = .max
    /// Whether a bit was flipped on its disk since it last started cleanly.
    var damaged = false

    init(id: NodeID, fileSystem: SimulatedFileSystem, bootstrap: Bootstrap, state: State) {
        self.id = id
        self.fileSystem = fileSystem
        self.bootstrap = bootstrap
        self.state = state
    }

    var isUp: Bool { state == .up }

    /// Recovers the node from its disk.
    func start(seed: UInt64, tuning: SimulatedNodeTuning) async throws(RaftNodeError) {
        incarnation += 1
        var configuration = RaftNodeConfiguration.simulated(
            id: id, bootstrap: bootstrap, randomSeed: seed ^ (incarnation &* 0x2545_F491_4F6C_DD1D))
        configuration.raft.electionTicks = 10
        configuration.raft.heartbeatTicks = 1
        configuration.raft.maxMessageBytes = tuning.maxMessageBytes
        configuration.raft.maxInflightMessages = tuning.maxInflightMessages
        configuration.snapshotEntryThreshold = tuning.snapshotEntryThreshold
        configuration.snapshotChunkSize = tuning.snapshotChunkSize
        configuration.snapshotResendTicks = 8
        configuration.readTimeoutTicks = 40
        configuration.wal.segmentSize = tuning.segmentSize
        configuration.snapshots.blockSize = 1024
        lastCommit = 0
        lastCheckedApplied = .max
        engine = try await Engine.open(
            configuration: configuration, fileSystem: fileSystem, stateMachine: RecordingKVStateMachine(),
            transport: SimulatedTransport(outbox: outbox), writes: .held)
        state = .up
    }

    /// Kills the process: unsynced writes are lost or torn, and the engine is dropped without
    /// closing anything (the power cut comes first, so nothing is synced on the way down).
    func crash(until tick: UInt64) {
        fileSystem.crash()
        engine = nil
        _ = outbox.take()
        state = .down(until: tick)
    }
}

/// Sizes that make a short simulation exercise rollover, snapshots and chunked transfer.
struct SimulatedNodeTuning {
    var snapshotEntryThreshold: Int
    var snapshotChunkSize: Int
    var segmentSize: Int
    /// Small limits make a leader replicate a few entries at a time, so followers hold
    /// partial suffixes and quorums form over old-term entries before the new leader's own.
    var maxMessageBytes: Int
    var maxInflightMessages: Int
}
