extension RaftReplica {
    /// The commit index a leader tells others: only what it has made durable.
    /// Configurations take effect on apply, so a leader that restarted with
    /// a lower commit index than a learner or a removed node had been told
    /// could be left with an old configuration that needs that node's vote,
    /// which the node's longer log then denies: a permanent stall.
    var advertisedCommit: UInt64 { min(log.committed, persistedHardState.commit) }

    /// Sends appends to every follower that is ready for them.
    mutating func broadcastAppend() {
        for member in tracker.progress.keys.sorted() where member != id {
            sendAppend(to: member)
        }
    }

    /// Sends `member` the entries after its `next` index (or a snapshot when
    /// they were compacted). Returns whether a message was sent.
    @discardableResult
    mutating func sendAppend(to member: NodeID, allowEmpty: Bool = true) -> Bool {
        guard member != id, var progress = tracker.progress[member], !progress.isPaused else { return false }
        let previousIndex = progress.next - 1
        guard let previousTerm = log.term(at: previousIndex),
              let entries = log.entries(from: progress.next, to: log.lastIndex + 1, maxBytes: options.maxMessageBytes)
        else {
            return sendSnapshot(to: member)
        }
        if entries.isEmpty && !allowEmpty { return false }
        var bytes = 0
        for entry in entries { bytes += entry.byteSize }
        send(Message(
            kind: .append, from: id, to: member, term: term,
            logTerm: previousTerm, index: previousIndex, entries: entries, commit: advertisedCommit
        ))
        progress.sentEntries(count: entries.count, bytes: bytes, lastIndex: entries.last?.index ?? previousIndex)
        tracker.progress[member] = progress
        return true
    }

    /// Sends `member` an append without entries, checking `next - 1`, outside
    /// the in-flight window.
    mutating func sendEmptyAppend(to member: NodeID) {
        // A follower receiving a snapshot hears from us when it finishes.
        guard var progress = tracker.progress[member], progress.state != .snapshot else { return }
        guard let previousTerm = log.term(at: progress.next - 1) else {
            // That index was compacted; probing will lead to a snapshot.
            progress.becomeProbe()
            tracker.progress[member] = progress
            sendAppend(to: member)
            return
        }
        send(Message(
            kind: .append, from: id, to: member, term: term,
            logTerm: previousTerm, index: progress.next - 1, commit: min(progress.match, advertisedCommit)
        ))
    }

    /// Switches `member` to snapshot state and asks the runtime to send it
    /// the latest snapshot. Waits until the member is known to be alive, so
    /// a dead node does not cost a snapshot transfer.
    private mutating func sendSnapshot(to member: NodeID) -> Bool {
        guard var progress = tracker.progress[member], progress.recentActive else { return false }
        let snapshot = log.snapshot
        progress.becomeSnapshot(index: snapshot.index)
        tracker.progress[member] = progress
        send(Message(kind: .snapshot, from: id, to: member, term: term, snapshot: snapshot))
        return true
    }

    /// Sends a heartbeat to every member. The commit index is capped by what
    /// each member is known to hold, so a follower never marks as committed
    /// an index where its log may still differ from ours.
    mutating func broadcastHeartbeat(round: UInt64) {
        for (member, progress) in tracker.progress.sorted(by: { $0.key < $1.key }) where member != id {
            send(Message(
                kind: .heartbeat, from: id, to: member, term: term,
                commit: min(progress.match, advertisedCommit), context: round
            ))
        }
    }

    /// Raft §5.3/§5.4.2: advances the commit index to what a quorum of voters
    /// holds, but only by counting replicas of an entry of the current term
    /// (Figure 8). Returns whether it moved.
    @discardableResult
    mutating func maybeCommit() -> Bool {
        let quorumIndex = tracker.committedIndex
        #if RAFT_PLANTED_BUG_COMMIT_OLD_TERM
        // Planted bug, for proving the simulator catches it: an entry of an earlier term is
        // committed by counting replicas (Raft §5.4.2, Figure 8).
        guard quorumIndex > log.committed, quorumIndex <= log.lastIndex else { return false }
        #else
        guard quorumIndex > log.committed, quorumIndex <= log.lastIndex, log.term(at: quorumIndex) == term else {
            return false
        }
        #endif
        log.commit(to: quorumIndex)
        releaseReadsAwaitingTermCommit()
        return true
    }

    mutating func handleAppendResponse(_ message: Message) {
        guard var progress = tracker.progress[message.from] else { return }
        progress.recentActive = true
        if message.reject {
            guard message.rejectHint <= message.index else {
                tracker.progress[message.from] = progress
                drop()
                return
            }
            // Skip back over the follower's whole divergent term at once.
            var next = message.rejectHint
            if message.logTerm > 0 {
                next = log.lastIndex(atOrBefore: message.rejectHint, withTermAtMost: message.logTerm).index
            }
            if progress.backOff(rejected: message.index, hint: next) {
                if progress.state == .replicate { progress.becomeProbe() }
                tracker.progress[message.from] = progress
                sendAppend(to: message.from)
            } else {
                tracker.progress[message.from] = progress
            }
            return
        }
        guard message.index <= log.lastIndex else {
            // The follower claims entries we never had.
            tracker.progress[message.from] = progress
            drop()
            return
        }
        progress.durableCommit = max(progress.durableCommit, min(message.commit, message.index))
        let wasPaused = progress.isPaused
        guard progress.acknowledge(through: message.index) else {
            tracker.progress[message.from] = progress
            stepDownIfNewQuorumKnows()
            return
        }
        switch progress.state {
        case .probe:
            progress.becomeReplicate()
        case .snapshot where progress.match + 1 >= log.firstIndex:
            // The follower installed a snapshot (or caught up) and the log
            // continues from there.
            progress.becomeProbe()
            progress.becomeReplicate()
        case .snapshot:
            break
        case .replicate:
            progress.inflights.free(through: message.index)
        }
        tracker.progress[message.from] = progress
        // A new commit index is not sent from here: followers learn it once the leader has
        // made it durable (`hardStateDurable`), so an append now would carry nothing new.
        maybeCommit()
        if wasPaused {
            sendAppend(to: message.from)
        }
        // Keep the pipeline full while there are entries and window room.
        while sendAppend(to: message.from, allowEmpty: false) {}
        if message.from == transferTarget, tracker.progress[message.from]?.match == log.lastIndex {
            sendTimeoutNow(to: message.from)
        }
        stepDownIfNewQuorumKnows()
    }

    mutating func handleHeartbeatResponse(_ message: Message) {
        guard var progress = tracker.progress[message.from] else { return }
        progress.recentActive = true
        progress.probeSent = false
        let behind = progress.match < log.lastIndex
        let windowFull = progress.state == .replicate && progress.inflights.isFull
        tracker.progress[message.from] = progress
        if windowFull {
            // Every pipelined append may have been lost. An empty append at
            // `next - 1` costs nothing if they were not; if they were, the
            // follower rejects it and we fall back to probing.
            sendEmptyAppend(to: message.from)
        } else if behind {
            sendAppend(to: message.from)
        }
        let currentTracker = tracker
        let confirmed = readIndexQueue.acknowledge(round: message.context, from: message.from) {
            currentTracker.isQuorum($0)
        }
        for read in confirmed {
            deliverRead(index: read.index, requester: read.requester, context: read.context)
        }
    }

    /// Records the leader's own entries as durable, which may commit them
    /// (persistence contract, clause 2).
    mutating func acknowledgeOwnEntries() {
        guard var own = tracker.progress[id] else { return }
        if own.acknowledge(through: log.lastPersistedIndex) {
            tracker.progress[id] = own
            // Followers learn the new commit once it is durable (`hardStateDurable`).
            maybeCommit()
        }
    }

    /// Tells the core how sending a snapshot to `member` ended. On failure
    /// the leader probes again after the next heartbeat reply; on success it
    /// resumes after the snapshot.
    public mutating func reportSnapshot(to member: NodeID, succeeded: Bool) {
        guard role == .leader, var progress = tracker.progress[member], progress.state == .snapshot else { return }
        if !succeeded {
            progress.becomeSnapshot(index: 0)
        }
        progress.becomeProbe()
        // Wait for a heartbeat reply before probing, so a dead link does not
        // spin.
        progress.probeSent = true
        tracker.progress[member] = progress
    }

    /// Tells the core that `member` could not be reached, so pipelined
    /// appends to it were probably lost.
    public mutating func reportUnreachable(_ member: NodeID) {
        guard role == .leader, var progress = tracker.progress[member], progress.state == .replicate else { return }
        progress.becomeProbe()
        tracker.progress[member] = progress
    }
}
