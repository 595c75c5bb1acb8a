extension RaftReplica {
    /// Proposes a membership change. Only a leader accepts it, and only once
    /// it has committed an entry of its own term (a single-server change
    /// before that is unsafe, Ongaro 2015) and applied any earlier change:
    /// at most one change is pending at a time.
    public mutating func proposeConfChange(_ change: ConfChange) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard tracker.configuration.isVoter(id) else { throw .notVoter }
        guard transferTarget == nil else { throw .transferInProgress }
        guard log.term(at: log.committed) == term else { throw .leaderNotReady }
        guard log.applied >= pendingConfIndex else { throw .confChangePending }
        if case .failure(let error) = ConfChanger.apply(change, to: tracker.configuration) {
            throw .invalidConfChange(error)
        }
        appendAsLeader([(EntryKind.configChange, change.encoded())])
        pendingConfIndex = log.lastIndex
    }

    /// Applies a committed configuration-change entry (see "When a
    /// configuration takes effect" on ``RaftReplica``). Every node applies
    /// the same entries in the same order, so an entry that is invalid here
    /// is invalid everywhere and is skipped everywhere.
    mutating func applyConfChange(_ entry: Entry) {
        guard let change = ConfChange(decoding: entry.data),
              case .success(let configuration) = ConfChanger.apply(change, to: tracker.configuration)
        else {
            // Changes are validated when proposed, one at a time, against the configuration
            // they will apply to, so a committed one that does not apply is a core bug.
            return violated("committed configuration change at \(entry.index) does not apply")
        }
        tracker.switchTo(configuration, nextIndex: log.lastIndex + 1)
        if (role == .candidate || role == .preCandidate) && !configuration.isVoter(id) {
            // Removed mid-campaign: a non-voter must not become leader.
            becomeFollower(term: term, leader: nil)
            return
        }
        guard role == .leader else { return }
        if !configuration.isVoter(id) {
            // Removed or demoted. The change is committed, but the remaining
            // voters may not know it yet: they would keep the old
            // configuration, which may need our vote, and our log may be too
            // long for us to grant it. So keep leading (taking no proposals)
            // until a quorum of the new configuration durably knows, then step
            // down.
            stepDownIndex = entry.index
            stepDownElapsed = 0
            broadcastAppend()
            stepDownIfNewQuorumKnows()
            return
        }
        if let target = transferTarget, !configuration.isVoter(target) {
            transferTarget = nil
        }
        // The new quorum may already hold more entries; new members need the log.
        if maybeCommit() {
            broadcastAppend()
        } else {
            for member in tracker.progress.keys.sorted() where member != id {
                sendAppend(to: member, allowEmpty: false)
            }
        }
    }
}

extension RaftReplica {
    /// Steps a removed leader down once a quorum of the configuration it
    /// applied durably knows that the change is committed.
    mutating func stepDownIfNewQuorumKnows() {
        guard role == .leader, let index = stepDownIndex, tracker.quorumKnowsCommitted(index) else { return }
        becomeFollower(term: term, leader: nil)
    }
}
