@testable import RaftCore

/// Options for hand-written scenarios: no pre-vote and no check-quorum unless
/// a test asks, so each scenario exercises exactly the rule it names.
func plainOptions(preVote: Bool = false, checkQuorum: Bool = false) -> RaftOptions {
    RaftOptions(electionTicks: 10, heartbeatTicks: 1, preVote: preVote, checkQuorum: checkQuorum)
}

/// A storage holding entries with the given terms at indexes 1, 2, ...
func makeStorage(voters: [NodeID], learners: [NodeID] = [], terms: [UInt64]) -> MemoryLogStorage {
    var storage = MemoryLogStorage(configuration: Configuration(voters: Set(voters), learners: Set(learners)))
    storage.append(terms.enumerated().map { position, term in
        Entry(term: term, index: UInt64(position + 1), data: Array("e\(position + 1)t\(term)".utf8))
    })
    return storage
}

/// A replica restarted from a log with the given terms.
func makeReplica(
    _ id: NodeID,
    voters: [NodeID],
    learners: [NodeID] = [],
    terms: [UInt64] = [],
    term: UInt64? = nil,
    vote: NodeID? = nil,
    commit: UInt64 = 0,
    options: RaftOptions = plainOptions()
) -> Replica {
    var storage = makeStorage(voters: voters, learners: learners, terms: terms)
    storage.hardState = HardState(term: term ?? (terms.last ?? 0), vote: vote, commit: commit)
    return Replica(id: id, storage: storage, hardState: storage.hardState, options: options, randomSeed: id)
}

extension TestCluster {
    /// A cluster of the given replicas (all sharing `options`).
    init(replicas list: [Replica], options: RaftOptions = plainOptions()) {
        self.init(voters: [], options: options)
        for replica in list {
            replicas[replica.id] = replica
            applied[replica.id] = []
            readStates[replica.id] = []
        }
    }
}

extension RaftReplica where Storage == MemoryLogStorage {
    /// Carries out one `Ready` synchronously into the replica's own storage
    /// and returns it (its messages are for the caller to route).
    @discardableResult
    mutating func persistAndAdvance() -> Ready {
        let ready = self.ready()
        updateStorage { storage in
            if let snapshot = ready.snapshot { storage.install(snapshot) }
            storage.append(ready.entries)
            if let state = ready.hardState { storage.hardState = state }
        }
        advance(ready)
        return ready
    }

    /// All messages the next `Ready`s hold, after persisting them.
    @discardableResult
    mutating func drainMessages() -> [Message] {
        var messages: [Message] = []
        while hasReady {
            let ready = persistAndAdvance()
            messages += ready.messages + ready.messagesAfterPersist
        }
        return messages
    }
}

/// A message addressed to `to`, for hand-built scenarios.
func message(
    _ kind: MessageKind, from: NodeID, to: NodeID, term: UInt64,
    logTerm: UInt64 = 0, index: UInt64 = 0, entries: [Entry] = [], commit: UInt64 = 0,
    reject: Bool = false, rejectHint: UInt64 = 0, context: UInt64 = 0
) -> Message {
    Message(
        kind: kind, from: from, to: to, term: term, logTerm: logTerm, index: index,
        entries: entries, commit: commit, reject: reject, rejectHint: rejectHint, context: context
    )
}

/// Entries of the given term at consecutive indexes from `first`.
func entries(term: UInt64, from first: UInt64, count: Int) -> [Entry] {
    (0..<count).map { Entry(term: term, index: first + UInt64($0), data: Array("n\(first + UInt64($0))t\(term)".utf8)) }
}

/// The terms of a replica's whole log, from index 1 (the log must be
/// uncompacted).
func logTerms(_ replica: Replica) -> [UInt64] {
    guard replica.lastIndex > 0 else { return [] }
    return (1...replica.lastIndex).map { replica.log.term(at: $0) ?? 0 }
}
