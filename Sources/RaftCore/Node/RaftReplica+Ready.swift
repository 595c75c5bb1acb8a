extension RaftReplica {
    /// Whether ``ready()`` would return something to do.
    public var hasReady: Bool {
        hardState != lastReadyHardState
            || (log.unstable.snapshot != nil && !log.unstable.snapshotInProgress)
            || !log.unstable.entriesNotInProgress.isEmpty
            || !outbox.isEmpty || !outboxAfterPersist.isEmpty || !readStates.isEmpty
            || !log.nextCommittedEntries(maxBytes: 1).isEmpty
    }

    /// Reports that `state`, handed out in an earlier `Ready`, is durable.
    /// Only the commit index a leader has made durable is advertised to
    /// followers (see `advertisedCommit`), so a higher one goes out now.
    public mutating func hardStateDurable(_ state: HardState) {
        guard state.term > persistedHardState.term
            || (state.term == persistedHardState.term && state.commit >= persistedHardState.commit)
        else { return }
        let advertisedBefore = advertisedCommit
        persistedHardState = state
        if role == .leader && advertisedCommit > advertisedBefore {
            // The commit index is durable now; let the followers apply.
            broadcastAppend()
        }
    }

    /// Collects what the runtime must persist, send and apply, and marks it
    /// as handed out. Hand the result back to ``advance(_:)`` once done.
    public mutating func ready() -> Ready {
        var ready = Ready(role: role, leader: leader)
        let state = hardState
        if state != lastReadyHardState {
            ready.hardState = state
            lastReadyHardState = state
        }
        if let snapshot = log.unstable.snapshot, !log.unstable.snapshotInProgress {
            ready.snapshot = snapshot
        }
        ready.entries = Array(log.unstable.entriesNotInProgress)
        log.unstable.acceptInProgress()
        ready.committedEntries = log.nextCommittedEntries(maxBytes: options.maxCommittedBytesPerReady)
        if let last = ready.committedEntries.last {
            log.applying = last.index
        }
        ready.messages = outbox
        outbox = []
        ready.messagesAfterPersist = outboxAfterPersist
        outboxAfterPersist = []
        ready.readStates = readStates
        readStates = []
        return ready
    }

    /// Reports that `ready` was carried out: its state is durable (so the
    /// leader's own entries and a candidate's own vote now count), its
    /// messages were sent, and its committed entries were applied (so the
    /// configuration changes among them take effect).
    ///
    /// A `Ready` whose only durable change is a higher commit index (see
    /// ``Ready/onlyAdvancesCommit(after:)``) may be advanced before that
    /// write is durable: pass it with `hardState` set to `nil`, and report
    /// the hard state with ``hardStateDurable(_:)`` once it is.
    public mutating func advance(_ ready: Ready) {
        if let state = ready.hardState {
            hardStateDurable(state)
        }
        if let snapshot = ready.snapshot {
            log.unstable.stableSnapshot(index: snapshot.index)
            log.applied = max(log.applied, snapshot.index)
            log.applying = max(log.applying, snapshot.index)
        }
        if let last = ready.entries.last {
            log.unstable.stable(through: last.index, term: last.term)
            if role == .leader { acknowledgeOwnEntries() }
        }
        if let last = ready.committedEntries.last {
            let committed = log.committed
            if last.index > committed { violated("applied \(last.index) beyond commit \(committed)") }
            for entry in ready.committedEntries where entry.kind == .configChange {
                applyConfChange(entry)
            }
            log.applied = max(log.applied, last.index)
        }
        if role == .candidate, persistedHardState.term == term, persistedHardState.vote == id {
            tracker.recordVote(from: id, granted: true)
            evaluateElection()
        }
        if role == .leader, tracker.configuration.isJoint, log.applied >= pendingConfIndex {
            // Leave joint consensus as soon as C_old,new is applied.
            appendAsLeader([(EntryKind.configChange, ConfChange.leaveJoint.encoded())])
            pendingConfIndex = log.lastIndex
        }
    }
}
