/// Joint-consensus rules: a decision needs a majority of the incoming voters
/// and, while joint, a majority of the outgoing voters too.
enum JointQuorum {
    /// The highest index committed under both halves of `configuration`.
    static func committedIndex(_ configuration: Configuration, acknowledged: (NodeID) -> UInt64) -> UInt64 {
        let incoming = MajorityQuorum.committedIndex(voters: configuration.voters, acknowledged: acknowledged)
        let outgoing = MajorityQuorum.committedIndex(voters: configuration.outgoingVoters, acknowledged: acknowledged)
        return min(incoming, outgoing)
    }

    /// The election outcome under both halves of `configuration`.
    static func voteResult(_ configuration: Configuration, votes: [NodeID: Bool]) -> VoteResult {
        let incoming = MajorityQuorum.voteResult(voters: configuration.voters, votes: votes)
        let outgoing = MajorityQuorum.voteResult(voters: configuration.outgoingVoters, votes: votes)
        if incoming == outgoing { return incoming }
        if incoming == .lost || outgoing == .lost { return .lost }
        return .pending
    }
}
