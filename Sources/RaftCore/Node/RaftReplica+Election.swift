extension RaftReplica {
    /// Starts an election now (with a pre-vote first when enabled), as if the
    /// election timeout had elapsed.
    public mutating func campaign() throws(RaftError) {
        guard isPromotable else { throw .notVoter }
        startElection(isLeadershipTransfer: false)
    }

    /// Campaigns: a pre-vote when enabled, except for a leadership transfer,
    /// which the old leader asked for and so may skip it.
    mutating func startElection(isLeadershipTransfer: Bool) {
        guard role != .leader, isPromotable, !hasUnappliedConfChanges else { return }
        if options.preVote && !isLeadershipTransfer {
            becomePreCandidate()
            // A pre-vote changes no durable state, so our own vote counts at once.
            tracker.recordVote(from: id, granted: true)
            requestVotes(kind: .preVote, term: term + 1, isLeadershipTransfer: false)
            evaluateElection()
        } else {
            beginElection(isLeadershipTransfer: isLeadershipTransfer)
        }
    }

    /// Raises the term and asks for votes. Our own vote counts only once it
    /// is durable (see `advance`): counting it earlier would let a crash
    /// erase it and allow a second vote in this term.
    private mutating func beginElection(isLeadershipTransfer: Bool) {
        becomeCandidate()
        requestVotes(kind: .vote, term: term, isLeadershipTransfer: isLeadershipTransfer)
    }

    /// Whether a committed configuration change is not yet applied; the
    /// configuration we hold may then be out of date.
    var hasUnappliedConfChanges: Bool {
        guard log.committed > log.applied else { return false }
        var found = false
        forEachEntry(in: (log.applied + 1)..<(log.committed + 1)) { entry in
            found = entry.kind == .configChange
            return !found
        }
        return found
    }

    private mutating func requestVotes(kind: MessageKind, term electionTerm: UInt64, isLeadershipTransfer: Bool) {
        let configuration = tracker.configuration
        for voter in configuration.voters.union(configuration.outgoingVoters).sorted() where voter != id {
            send(Message(
                kind: kind, from: id, to: voter, term: electionTerm,
                logTerm: log.lastTerm, index: log.lastIndex,
                isLeadershipTransfer: isLeadershipTransfer
            ))
        }
    }

    /// Acts on the votes counted so far.
    mutating func evaluateElection() {
        switch tracker.voteResult {
        case .won:
            if role == .preCandidate {
                beginElection(isLeadershipTransfer: false)
            } else if role == .candidate {
                becomeLeader()
            }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            break
        }
    }

    /// Answers a vote or pre-vote request (Raft §5.2, §5.4.1).
    mutating func handleVoteRequest(_ message: Message) {
        let responseKind: MessageKind = message.kind == .vote ? .voteResponse : .preVoteResponse
        // One vote per term: a repeat request from our candidate is re-granted;
        // a pre-vote for a later term may be granted since it binds nothing.
        let canVote = vote == message.from
            || (vote == nil && leader == nil)
            || (message.kind == .preVote && message.term > term)
        // Every reply shares what we know to be committed (see `learnCommit`).
        let commit = log.committed
        let commitTerm = log.term(at: commit) ?? 0
        if canVote && log.isUpToDate(lastIndex: message.index, lastTerm: message.logTerm) {
            send(Message(kind: responseKind, from: id, to: message.from, term: message.term, logTerm: commitTerm, commit: commit))
            if message.kind == .vote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(Message(
                kind: responseKind, from: id, to: message.from, term: term,
                logTerm: commitTerm, commit: commit, reject: true
            ))
        }
    }

    /// Adopts a commit index from a vote reply: an entry that any node knows
    /// to be committed stays committed, and when our log holds the same entry
    /// (same index and term) it holds everything before it too. This matters
    /// because configurations take effect on apply: a voter that restarted
    /// with an old commit index may hold an old configuration that needs the
    /// vote of a node that was removed or demoted, whose longer log makes it
    /// refuse; learning the commit index from that refusal lets the voter
    /// apply the new configuration and win without it.
    mutating func learnCommit(from message: Message) {
        guard message.commit > log.committed, message.commit <= log.lastIndex,
              log.term(at: message.commit) == message.logTerm else { return }
        log.commit(to: message.commit)
    }

    /// Resets volatile state for `newTerm`. The vote is erased only when the
    /// term changes: erasing it within a term would allow a second vote.
    mutating func reset(term newTerm: UInt64) {
        if newTerm != term {
            term = newTerm
            vote = nil
        }
        leader = nil
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        transferTarget = nil
        transferElapsed = 0
        stepDownIndex = nil
        stepDownElapsed = 0
        tracker.resetVotes()
        tracker.resetProgress(nextIndex: log.lastIndex + 1)
        pendingConfIndex = 0
        readIndexQueue.reset()
        readsAwaitingTermCommit = []
    }

    mutating func becomeFollower(term newTerm: UInt64, leader newLeader: NodeID?) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    /// A pre-candidate keeps its term and vote: a pre-vote must not reset
    /// anything durable.
    private mutating func becomePreCandidate() {
        role = .preCandidate
        leader = nil
        tracker.resetVotes()
    }

    private mutating func becomeCandidate() {
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    private mutating func becomeLeader() {
        reset(term: term)
        role = .leader
        leader = id
        // The log may hold an unapplied configuration change from an earlier
        // term; accept no new change until everything up to here is applied.
        pendingConfIndex = log.lastIndex
        if var own = tracker.progress[id] {
            own.recentActive = true
            own.becomeReplicate()
            _ = own.acknowledge(through: log.lastPersistedIndex)
            tracker.progress[id] = own
        }
        // A no-op of the new term lets earlier entries commit (§5.4.2) and
        // unblocks reads and configuration changes.
        appendAsLeader([(EntryKind.normal, [UInt8]())])
    }
}
