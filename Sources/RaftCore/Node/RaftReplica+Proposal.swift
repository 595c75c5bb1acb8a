extension RaftReplica {
    /// Proposes one entry of application data. Only a leader accepts it.
    public mutating func propose(_ data: [UInt8]) throws(RaftError) {
        try propose(batch: [data])
    }

    /// Proposes several entries at once; they are appended together and
    /// shipped in as few messages as the byte limits allow.
    public mutating func propose(batch: [[UInt8]]) throws(RaftError) {
        guard role == .leader else { throw .notLeader(leader: leader) }
        guard transferTarget == nil else { throw .transferInProgress }
        guard tracker.configuration.isVoter(id) else { throw .notVoter }
        guard !batch.isEmpty else { return }
        appendAsLeader(batch.map { (EntryKind.normal, $0) })
    }

    /// Appends entries of the current term to the leader's log and sends
    /// them. The leader's own acknowledgement waits until they are durable.
    mutating func appendAsLeader(_ payloads: [(kind: EntryKind, data: [UInt8])]) {
        var index = log.lastIndex
        var entries: [Entry] = []
        entries.reserveCapacity(payloads.count)
        for payload in payloads {
            index += 1
            entries.append(Entry(term: term, index: index, kind: payload.kind, data: payload.data))
        }
        log.appendAsLeader(entries)
        broadcastAppend()
    }
}
