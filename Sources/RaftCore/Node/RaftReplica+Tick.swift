extension RaftReplica {
    /// Advances the logical clock by one tick: followers and candidates may
    /// time out and campaign; a leader sends heartbeats, checks its quorum and
    /// times out a stalled leadership transfer.
    public mutating func tick() {
        if role == .leader {
            tickLeader()
        } else {
            tickElection()
        }
    }

    private mutating func tickElection() {
        electionElapsed += 1
        guard isPromotable, electionElapsed >= randomizedElectionTimeout else { return }
        electionElapsed = 0
        startElection(isLeadershipTransfer: false)
    }

    private mutating func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= options.electionTicks {
            electionElapsed = 0
            if options.checkQuorum && !tracker.checkQuorumActive(selfID: id) {
                // Cut off from a quorum: another leader may exist, so stop
                // taking writes and reads that could never commit.
                becomeFollower(term: term, leader: nil)
                return
            }
        }
        if stepDownIndex != nil {
            stepDownElapsed += 1
            if stepDownElapsed >= 2 * options.electionTicks {
                // The new configuration could not be told in time (e.g. it is
                // partitioned from us); stop leading and let it elect.
                becomeFollower(term: term, leader: nil)
                return
            }
        }
        if transferTarget != nil {
            transferElapsed += 1
            if transferElapsed >= options.transferTimeoutTicks {
                transferTarget = nil
            }
        }
        if heartbeatElapsed >= options.heartbeatTicks {
            heartbeatElapsed = 0
            if stepDownIndex != nil {
                // Heartbeat replies prove nothing durable; appends' do.
                for member in tracker.progress.keys.sorted() where member != id {
                    sendEmptyAppend(to: member)
                }
            } else {
                broadcastHeartbeat(round: readIndexQueue.newestPendingRound)
            }
        }
    }

    /// Draws a fresh election timeout in `[T, 2T)` ticks.
    mutating func resetRandomizedElectionTimeout() {
        let base = options.electionTicks
        randomizedElectionTimeout = base + Int.random(in: 0..<base, using: &random)
    }
}
