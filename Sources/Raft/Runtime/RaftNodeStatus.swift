import RaftCore

/// A node's state at one moment: its role, term, leader, log and membership, and, on a
/// leader, every peer's replication progress.
public struct RaftNodeStatus: Sendable, Hashable {
    /// The core's status: role, leader, hard state, applied and last index, membership,
    /// and per-peer progress.
    public var raft: RaftStatus
    /// The highest index known to be committed.
    public var commitIndex: UInt64
    /// The first index still in the log.
    public var firstIndex: UInt64
    /// The last index the newest snapshot covers.
    public var snapshotIndex: UInt64
    /// Why the node stopped, if it did.
    public var stopReason: String?

    /// This node's role.
    public var role: Role { raft.role }
    /// The current term.
    public var term: UInt64 { raft.hardState.term }
    /// The leader this node knows of.
    public var leader: NodeID? { raft.leader }
    /// The last index applied to the state machine.
    public var appliedIndex: UInt64 { raft.applied }
    /// The last index in the log.
    public var lastIndex: UInt64 { raft.lastIndex }
    /// The membership in force.
    public var configuration: Configuration { raft.configuration }
}
