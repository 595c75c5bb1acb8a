/// Why an input was refused.
public enum RaftError: Error, Sendable, Hashable {
    /// Only the leader accepts this; `leader` is the known leader, if any.
    case notLeader(leader: NodeID?)
    /// A leadership transfer is under way; proposals resume when it ends.
    case transferInProgress
    /// A configuration change is still waiting to be applied.
    case confChangePending
    /// The leader has not yet committed an entry of its term, so it cannot
    /// change the configuration or serve reads yet.
    case leaderNotReady
    /// The change is invalid for the current configuration.
    case invalidConfChange(ConfChangeError)
    /// The node is not a voter of the configuration (e.g. a learner, or a
    /// removed node).
    case notVoter
    /// The named node is not a voter of the configuration.
    case unknownNode(NodeID)
}
