extension RaftReplica {
    /// Feeds a message from the network to the node.
    ///
    /// Never traps: a malformed or inconsistent message, or one from a node
    /// the leader does not track, is dropped and counted in
    /// ``RaftStatus/droppedMessages``.
    public mutating func step(_ message: Message) {
        guard message.to == id, message.isWellFormed else {
            drop()
            return
        }
        if message.term > term {
            guard adoptHigherTerm(of: message) else { return }
        } else if message.term < term {
            answerStaleMessage(message)
            return
        }
        switch message.kind {
        case .vote, .preVote:
            handleVoteRequest(message)
        case .voteResponse, .preVoteResponse:
            learnCommit(from: message)
            if role == .candidate || role == .preCandidate { stepCandidate(message) }
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    /// Raft §5.1: a higher term makes us a follower of it. Returns `false`
    /// when the message must be ignored instead.
    private mutating func adoptHigherTerm(of message: Message) -> Bool {
        if message.kind == .vote || message.kind == .preVote {
            // While we hear from a leader, a vote request comes from a node
            // that was cut off or removed; ignoring it (without raising our
            // term) keeps it from deposing a healthy leader. A leadership
            // transfer is the leader's own request and may proceed.
            let inLease = options.checkQuorum && leader != nil && electionElapsed < options.electionTicks
            if inLease && !message.isLeadershipTransfer { return false }
        }
        switch message.kind {
        case .preVote:
            // A pre-vote changes nothing durable, not even the term.
            break
        case .preVoteResponse where !message.reject:
            // A granted pre-vote carries the term we asked about; we raise
            // the term ourselves once we win.
            break
        case .append, .heartbeat, .snapshot:
            becomeFollower(term: message.term, leader: message.from)
        default:
            becomeFollower(term: message.term, leader: nil)
        }
        return true
    }

    /// Raft §5.1: a request with a stale term is refused with our term so the
    /// sender learns of it.
    private mutating func answerStaleMessage(_ message: Message) {
        switch message.kind {
        case .append, .heartbeat:
            // A leader that was cut off learns the new term and steps down.
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
        case .preVote:
            // Tell the pre-candidate our term: if our own log is too far
            // behind to win, this is how the higher term spreads and the
            // cluster avoids a pre-vote stall (etcd-io/etcd #8243).
            send(Message(kind: .preVoteResponse, from: id, to: message.from, term: term, reject: true))
        default:
            break
        }
    }

    private mutating func stepLeader(_ message: Message) {
        guard tracker.progress[message.from] != nil else {
            drop()
            return
        }
        switch message.kind {
        case .appendResponse:
            handleAppendResponse(message)
        case .heartbeatResponse:
            handleHeartbeatResponse(message)
        case .readIndex:
            handleReadRequest(requester: message.from, context: message.readContext)
        case .voteResponse, .preVoteResponse, .timeoutNow:
            // Late replies from our campaign, or a transfer we no longer need.
            break
        case .append, .heartbeat, .snapshot, .readIndexResponse:
            // Another leader in our own term cannot exist.
            drop()
        case .vote, .preVote:
            break
        }
    }

    private mutating func stepCandidate(_ message: Message) {
        switch message.kind {
        case .append, .heartbeat, .snapshot:
            // A leader of our term won; follow it.
            becomeFollower(term: term, leader: message.from)
            stepFollower(message)
        case .voteResponse where role == .candidate, .preVoteResponse where role == .preCandidate:
            tracker.recordVote(from: message.from, granted: !message.reject)
            evaluateElection()
        default:
            break
        }
    }

    private mutating func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            electionElapsed = 0
            leader = message.from
            handleAppend(message)
        case .heartbeat:
            electionElapsed = 0
            leader = message.from
            handleHeartbeat(message)
        case .snapshot:
            electionElapsed = 0
            leader = message.from
            handleSnapshot(message)
        case .timeoutNow:
            startElection(isLeadershipTransfer: true)
        case .readIndexResponse:
            guard message.from == leader else {
                drop()
                return
            }
            readStates.append(ReadState(index: message.index, context: message.readContext))
        case .readIndex:
            // Only leaders serve reads; the requester will retry.
            drop()
        default:
            // Late replies from an earlier role.
            break
        }
    }
}
