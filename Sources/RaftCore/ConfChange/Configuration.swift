/// The cluster's membership: who votes and who only receives the log.
///
/// During joint consensus (C_old,new) both ``voters`` (C_new) and
/// ``outgoingVoters`` (C_old) must agree: elections and commits need a
/// majority of each. Outside joint consensus ``outgoingVoters`` is empty.
public struct Configuration: Sendable, Hashable {
    /// The voters of the (incoming) configuration.
    public var voters: Set<NodeID>
    /// The voters of the outgoing configuration; non-empty only while joint.
    public var outgoingVoters: Set<NodeID>
    /// Non-voting members that receive the log and never vote or campaign.
    public var learners: Set<NodeID>

    /// Creates a configuration.
    public init(voters: Set<NodeID>, outgoingVoters: Set<NodeID> = [], learners: Set<NodeID> = []) {
        self.voters = voters
        self.outgoingVoters = outgoingVoters
        self.learners = learners
    }

    /// Whether the cluster is in joint consensus.
    public var isJoint: Bool { !outgoingVoters.isEmpty }

    /// Whether `id` votes in either half of the configuration.
    public func isVoter(_ id: NodeID) -> Bool {
        voters.contains(id) || outgoingVoters.contains(id)
    }

    /// Every member: voters of both halves and learners.
    public var members: Set<NodeID> { voters.union(outgoingVoters).union(learners) }
}
