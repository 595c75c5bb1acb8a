/// A snapshot of a node's state, for monitoring and tests.
public struct RaftStatus: Sendable, Hashable {
    /// The node.
    public var id: NodeID
    /// Its role.
    public var role: Role
    /// The leader it knows of.
    public var leader: NodeID?
    /// Its current term, vote and commit index.
    public var hardState: HardState
    /// The last index the application reported applied.
    public var applied: UInt64
    /// The index of the last entry in its log.
    public var lastIndex: UInt64
    /// The configuration in force.
    public var configuration: Configuration
    /// Messages that were malformed, inconsistent or from unknown nodes.
    public var droppedMessages: UInt64
    /// The target of a leadership transfer under way.
    public var transferTarget: NodeID?
    /// For a leader: each member's replication progress.
    public var progress: [NodeID: MemberProgress]
}

/// A leader's view of one member's replication, as reported in ``RaftStatus``.
public struct MemberProgress: Sendable, Hashable {
    /// The highest index known to match the leader's log.
    public var match: UInt64
    /// The next index the leader will send.
    public var next: UInt64
    /// How the leader is replicating to the member.
    public var state: ProgressState
}
