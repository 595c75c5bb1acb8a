/// Majority rules over one set of voters.
enum MajorityQuorum {
    /// The highest index that a majority of `voters` has, given each voter's
    /// acknowledged index. An empty set imposes no constraint (`UInt64.max`),
    /// which is what the joint rule needs for the unused outgoing half.
    static func committedIndex(voters: Set<NodeID>, acknowledged: (NodeID) -> UInt64) -> UInt64 {
        guard !voters.isEmpty else { return .max }
        var indexes = voters.map(acknowledged)
        indexes.sort(by: >)
        return indexes[indexes.count / 2]
    }

    /// The election outcome among `voters` given the answers so far; answers
    /// from non-voters are ignored. An empty set wins (joint rule).
    static func voteResult(voters: Set<NodeID>, votes: [NodeID: Bool]) -> VoteResult {
        guard !voters.isEmpty else { return .won }
        var granted = 0
        var missing = 0
        for voter in voters {
            switch votes[voter] {
            case true?: granted += 1
            case false?: break
            case nil: missing += 1
            }
        }
        let quorum = voters.count / 2 + 1
        if granted >= quorum { return .won }
        if granted + missing >= quorum { return .pending }
        return .lost
    }
}
