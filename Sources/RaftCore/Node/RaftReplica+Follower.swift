extension RaftReplica {
    /// Raft §5.3: AppendEntries with its consistency check.
    mutating func handleAppend(_ message: Message) {
        if message.index < log.committed {
            // A late or duplicated append below our commit: everything up to
            // the commit index already matches, so say so.
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.committed, commit: log.committed))
            return
        }
        guard log.matchTerm(message.index, message.logTerm) else {
            // Reject with a hint: the last index at or before the probe whose
            // term is not above the leader's previous term, so the leader can
            // skip a whole divergent term per round trip.
            let probe = min(message.index, log.lastIndex)
            let hint = log.lastIndex(atOrBefore: probe, withTermAtMost: message.logTerm)
            send(Message(
                kind: .appendResponse, from: id, to: message.from, term: term,
                logTerm: hint.term, index: message.index, reject: true, rejectHint: hint.index
            ))
            return
        }
        guard log.append(matching: message.entries) else {
            // The leader would overwrite a committed entry: never do that.
            drop()
            return
        }
        let lastNew = message.index + UInt64(message.entries.count)
        log.commit(to: min(message.commit, lastNew))
        send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: lastNew, commit: log.committed))
    }

    mutating func handleHeartbeat(_ message: Message) {
        log.commit(to: min(message.commit, log.lastIndex))
        send(Message(kind: .heartbeatResponse, from: id, to: message.from, term: term, context: message.context))
    }

    /// InstallSnapshot. If our log already holds the snapshot's last entry
    /// with the same term, the log (and the entries after it) is kept and the
    /// snapshot is not installed. Otherwise the whole log is discarded,
    /// including any entry at that index with a different term, which must
    /// never survive (hashicorp/raft #704).
    mutating func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else {
            drop()
            return
        }
        if snapshot.index <= log.committed {
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.committed, commit: log.committed))
            return
        }
        if log.matchTerm(snapshot.index, snapshot.term) {
            log.commit(to: snapshot.index)
            send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.committed, commit: log.committed))
            return
        }
        log.restore(snapshot)
        tracker.switchTo(snapshot.configuration, nextIndex: log.lastIndex + 1)
        send(Message(kind: .appendResponse, from: id, to: message.from, term: term, index: log.lastIndex, commit: log.committed))
    }
}
