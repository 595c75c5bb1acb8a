import Raft
import RaftCore

/// What the command processor needs from the replication layer: a `RaftNode` running a
/// ``KVStateMachine`` is one.
public protocol KVBackend: Sendable {
    /// Replicates `command` and returns its result once applied (see `RaftNode.propose`).
    func propose(_ command: [UInt8]) async throws(RaftNodeError) -> KVResult
    /// Runs `query` at a linearizable point (see `RaftNode.read`).
    func read<Result: Sendable>(_ query: @escaping @Sendable (KVStateMachine) -> Result) async throws(RaftNodeError) -> Result
    /// Takes a snapshot now and returns its last index (see `RaftNode.snapshot`).
    func snapshot() async throws(RaftNodeError) -> UInt64
    /// Adds `member` as a learner (see `RaftNode.addLearner`).
    func addLearner(_ member: NodeID) async throws(RaftNodeError)
    /// Promotes the learner `member` to voter (see `RaftNode.promoteLearner`).
    func promoteLearner(_ member: NodeID) async throws(RaftNodeError)
    /// Removes `member`, voter or learner (see `RaftNode.removeMember`).
    func removeMember(_ member: NodeID) async throws(RaftNodeError)
    /// The node's latest status, nil before it recovered.
    var status: RaftNodeStatus? { get }
    /// The leader this node knows of.
    var leaderID: NodeID? { get }
}

extension KVBackend {
    /// The leader this node knows of, from its status.
    public var leaderID: NodeID? { status?.leader }
}

extension RaftNode: KVBackend where SM == KVStateMachine {}
