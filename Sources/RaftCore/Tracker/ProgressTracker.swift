/// The configuration in force plus, for a leader, each member's replication
/// progress, and, for a candidate, the votes received.
struct ProgressTracker: Sendable {
    private(set) var configuration: Configuration
    var progress: [NodeID: Progress] = [:]
    private(set) var votes: [NodeID: Bool] = [:]
    let maxInflightMessages: Int
    let maxInflightBytes: Int

    init(configuration: Configuration, maxInflightMessages: Int, maxInflightBytes: Int) {
        self.configuration = configuration
        self.maxInflightMessages = maxInflightMessages
        self.maxInflightBytes = maxInflightBytes
    }

    /// Switches to `configuration`, keeping the progress of members that stay
    /// and starting new members at `nextIndex`.
    mutating func switchTo(_ configuration: Configuration, nextIndex: UInt64) {
        self.configuration = configuration
        let members = configuration.members
        progress = progress.filter { members.contains($0.key) }
        for id in members {
            let isLearner = !configuration.isVoter(id)
            if progress[id] == nil {
                // A member just added has had no chance to answer yet: it counts as active
                // until the next check-quorum round, or a leader that adds a voter it never
                // contacted would depose itself at the next check.
                var fresh = makeProgress(next: nextIndex, isLearner: isLearner)
                fresh.recentActive = true
                progress[id] = fresh
            } else {
                progress[id]?.isLearner = isLearner
            }
        }
        votes = votes.filter { configuration.isVoter($0.key) }
    }

    /// Starts every member afresh at `nextIndex` (on a role change).
    mutating func resetProgress(nextIndex: UInt64) {
        progress = [:]
        for id in configuration.members {
            progress[id] = makeProgress(next: nextIndex, isLearner: !configuration.isVoter(id))
        }
    }

    private func makeProgress(next: UInt64, isLearner: Bool) -> Progress {
        Progress(next: next, isLearner: isLearner, maxInflightMessages: maxInflightMessages, maxInflightBytes: maxInflightBytes)
    }

    /// The highest index acknowledged by a quorum of voters (in both halves
    /// while joint). Learners and non-members never count.
    var committedIndex: UInt64 {
        JointQuorum.committedIndex(configuration) { progress[$0]?.match ?? 0 }
    }

    /// Whether a quorum of voters has durably learned that `index` is
    /// committed.
    func quorumKnowsCommitted(_ index: UInt64) -> Bool {
        JointQuorum.committedIndex(configuration) { progress[$0]?.durableCommit ?? 0 } >= index
    }

    mutating func resetVotes() {
        votes = [:]
    }

    /// Records a vote; votes from non-voters (learners, strangers) are
    /// ignored so they can never tip an election.
    mutating func recordVote(from id: NodeID, granted: Bool) {
        guard configuration.isVoter(id), votes[id] == nil else { return }
        votes[id] = granted
    }

    var voteResult: VoteResult {
        JointQuorum.voteResult(configuration, votes: votes)
    }

    /// Whether a quorum of voters has been heard from recently (`selfID`
    /// always counts as active), clearing the activity marks for the next
    /// round.
    mutating func checkQuorumActive(selfID: NodeID) -> Bool {
        var active: [NodeID: Bool] = [:]
        for (id, entry) in progress where configuration.isVoter(id) {
            active[id] = id == selfID || entry.recentActive
        }
        for id in progress.keys where id != selfID {
            progress[id]?.recentActive = false
        }
        return JointQuorum.voteResult(configuration, votes: active) == .won
    }

    /// Whether the given set of acknowledging nodes forms a quorum.
    func isQuorum(_ acknowledged: Set<NodeID>) -> Bool {
        var votes: [NodeID: Bool] = [:]
        for id in acknowledged { votes[id] = true }
        return JointQuorum.voteResult(configuration, votes: votes) == .won
    }
}
