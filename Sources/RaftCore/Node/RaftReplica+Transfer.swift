extension RaftReplica {
    /// Hands leadership to `target`: the leader stops accepting proposals,
    /// brings the target up to date and tells it to campaign at once. If the
    /// transfer has not completed within ``RaftOptions/transferTimeoutTicks``
    /// the leader resumes normal operation.
    public mutating func transferLeadership(to target: NodeID) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard target != id, transferTarget != target else { return }
        guard tracker.configuration.isVoter(target) else { throw .unknownNode(target) }
        transferTarget = target
        transferElapsed = 0
        if tracker.progress[target]?.match == log.lastIndex {
            sendTimeoutNow(to: target)
        } else {
            sendAppend(to: target)
        }
    }

    mutating func sendTimeoutNow(to target: NodeID) {
        send(Message(kind: .timeoutNow, from: id, to: target, term: term))
    }
}
