/// One membership operation.
public enum ConfChangeOperation: Sendable, Hashable {
    /// Adds a voter, or promotes a learner to voter.
    case addVoter(NodeID)
    /// Adds a learner, or demotes a voter (only in a single-step change).
    case addLearner(NodeID)
    /// Removes a voter or learner.
    case remove(NodeID)
}

/// A membership change, proposed with ``RaftReplica/proposeConfChange(_:)``.
///
/// A change that alters at most one voter is applied in a single step. A change
/// that alters several voters enters joint consensus (C_old,new); the leader
/// then leaves it automatically by proposing ``leaveJoint`` once the joint
/// configuration is applied. An empty change is the "leave joint" marker.
public struct ConfChange: Sendable, Hashable {
    /// The operations, applied in order.
    public var operations: [ConfChangeOperation]

    /// Creates a change.
    public init(_ operations: [ConfChangeOperation]) {
        self.operations = operations
    }

    /// The change that moves a joint configuration to C_new.
    public static let leaveJoint = ConfChange([])

    /// Whether this is the "leave joint" marker.
    public var isLeaveJoint: Bool { operations.isEmpty }
}
