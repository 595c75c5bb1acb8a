/// Why a membership change was refused.
public enum ConfChangeError: Error, Sendable, Hashable {
    /// A change other than "leave joint" was proposed while joint.
    case alreadyJoint
    /// "Leave joint" was proposed outside joint consensus.
    case notJoint
    /// The change would leave no voter.
    case noVoters
    /// A node id of zero was used.
    case invalidNodeID
    /// A multi-voter change would demote a current voter to learner; demote
    /// in a single-step change instead, so a node is never both an outgoing
    /// voter and a learner.
    case demotionInJointChange(NodeID)
}

/// Computes the configuration that results from a ``ConfChange``.
enum ConfChanger {
    /// The configuration after applying `change` to `configuration`.
    static func apply(_ change: ConfChange, to configuration: Configuration) -> Result<Configuration, ConfChangeError> {
        if change.isLeaveJoint {
            guard configuration.isJoint else { return .failure(.notJoint) }
            var left = configuration
            left.outgoingVoters = []
            return .success(left)
        }
        guard !configuration.isJoint else { return .failure(.alreadyJoint) }
        var voters = configuration.voters
        var learners = configuration.learners
        for operation in change.operations {
            switch operation {
            case .addVoter(let id):
                guard id != 0 else { return .failure(.invalidNodeID) }
                voters.insert(id)
                learners.remove(id)
            case .addLearner(let id):
                guard id != 0 else { return .failure(.invalidNodeID) }
                voters.remove(id)
                learners.insert(id)
            case .remove(let id):
                guard id != 0 else { return .failure(.invalidNodeID) }
                voters.remove(id)
                learners.remove(id)
            }
        }
        guard !voters.isEmpty else { return .failure(.noVoters) }
        let changedVoters = voters.symmetricDifference(configuration.voters)
        if changedVoters.count <= 1 {
            // One voter changes: any majority of the old set overlaps any
            // majority of the new one, so a single step is safe.
            return .success(Configuration(voters: voters, learners: learners))
        }
        if let demoted = learners.first(where: { configuration.voters.contains($0) }) {
            return .failure(.demotionInJointChange(demoted))
        }
        return .success(Configuration(voters: voters, outgoingVoters: configuration.voters, learners: learners))
    }
}
