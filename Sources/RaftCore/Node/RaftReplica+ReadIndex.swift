extension RaftReplica {
    /// Asks for a linearizable read. When confirmed, a ``ReadState`` with
    /// this `context` appears in a later ``Ready``: the read may be served
    /// once the state machine has applied through its index. A follower
    /// forwards the request to its leader. Requests are lost when leadership
    /// changes; the runtime retries them after a timeout.
    public mutating func readIndex(context: [UInt8]) throws(RaftError) {
        switch role {
        case .leader:
            handleReadRequest(requester: id, context: context)
        case .follower:
            guard let leader else { throw .notLeader(leader: nil) }
            send(Message(kind: .readIndex, from: id, to: leader, term: term, readContext: context))
        case .candidate, .preCandidate:
            throw .notLeader(leader: nil)
        }
    }

    /// Registers a read at the current commit index and confirms leadership
    /// with a heartbeat round. No lease shortcut is taken: a read is only
    /// served after a quorum answered a heartbeat sent after the request.
    mutating func handleReadRequest(requester: NodeID, context: [UInt8]) {
        guard log.term(at: log.committed) == term else {
            // Until an entry of our term commits, our commit index may be
            // behind the previous leader's (etcd-io/etcd #7331).
            readsAwaitingTermCommit.append((requester, context))
            return
        }
        if tracker.isQuorum([id]) {
            // A single voter is its own quorum; its commit index is current
            // because it committed an entry of this term after restarting.
            deliverRead(index: log.committed, requester: requester, context: context)
            return
        }
        let round = readIndexQueue.add(index: log.committed, requester: requester, context: context, selfID: id)
        broadcastHeartbeat(round: round)
    }

    /// Hands a confirmed read to the local application or the follower that
    /// asked for it.
    mutating func deliverRead(index: UInt64, requester: NodeID, context: [UInt8]) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(Message(kind: .readIndexResponse, from: id, to: requester, term: term, index: index, readContext: context))
        }
    }

    /// Serves the reads that waited for an entry of this term to commit.
    mutating func releaseReadsAwaitingTermCommit() {
        guard !readsAwaitingTermCommit.isEmpty, log.term(at: log.committed) == term else { return }
        let waiting = readsAwaitingTermCommit
        readsAwaitingTermCommit = []
        for read in waiting {
            handleReadRequest(requester: read.requester, context: read.context)
        }
    }
}
