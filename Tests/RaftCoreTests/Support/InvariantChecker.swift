@testable import RaftCore

/// Checks Raft's safety properties over a `TestCluster` after every step.
struct InvariantChecker {
    /// The leader seen for each term (election safety).
    var leaderOfTerm: [UInt64: NodeID] = [:]
    /// Every entry any node applied, by index (state-machine safety).
    var committed: [UInt64: Entry] = [:]
    var highestCommitted: UInt64 = 0
    /// Each time the highest committed index rose: the index and the highest
    /// term any node had then. A leader of a later term was elected after
    /// that commit and must hold the entry.
    var commitHistory: [(index: UInt64, observedTerm: UInt64)] = []
    /// The commit index last seen per node incarnation.
    var lastCommit: [NodeID: UInt64] = [:]
    /// The persisted commit index last seen per node.
    var lastPersistedCommit: [NodeID: UInt64] = [:]
    /// How much of each node's applied list was already checked, and which
    /// version of the list that was.
    var checkedApplied: [NodeID: Int] = [:]
    var seenGeneration: [NodeID: Int] = [:]
    /// Whether to check that commits are durable on a majority of all nodes
    /// (only meaningful while the voters are fixed).
    var checksQuorumDurability = true

    /// Forgets the in-memory commit index of a node that restarted.
    mutating func nodeRestarted(_ id: NodeID) {
        lastCommit[id] = nil
    }

    /// Returns a description of the first violated invariant, if any.
    mutating func check(_ cluster: TestCluster) -> String? {
        for id in cluster.ids {
            let replica = cluster[id]
            // Election safety: at most one leader per term.
            if replica.role == .leader {
                if let other = leaderOfTerm[replica.term], other != id {
                    return "election safety: \(other) and \(id) both led term \(replica.term)"
                }
                leaderOfTerm[replica.term] = id
            }
            // The commit index never decreases (in memory, and durably).
            if let previous = lastCommit[id], replica.commitIndex < previous {
                return "commit index of \(id) went from \(previous) to \(replica.commitIndex)"
            }
            lastCommit[id] = replica.commitIndex
            let persisted = replica.storage.hardState.commit
            if let previous = lastPersistedCommit[id], persisted < previous {
                return "persisted commit index of \(id) went from \(previous) to \(persisted)"
            }
            lastPersistedCommit[id] = persisted
            // State-machine safety: every node applies the same entry at
            // each index, in order, with no gaps.
            let appliedEntries = cluster.applied[id]!
            var start = checkedApplied[id] ?? 0
            if cluster.appliedGeneration[id] != seenGeneration[id] {
                // The list was replaced by a snapshot's prefix: check it anew.
                start = 0
                seenGeneration[id] = cluster.appliedGeneration[id]
            }
            for position in start..<appliedEntries.count {
                let entry = appliedEntries[position]
                if position > 0, entry.index != appliedEntries[position - 1].index + 1 {
                    return "node \(id) applied index \(entry.index) after \(appliedEntries[position - 1].index)"
                }
                if let known = committed[entry.index] {
                    if known != entry {
                        return "state-machine safety: node \(id) applied \(entry) but another node applied \(known)"
                    }
                } else {
                    committed[entry.index] = entry
                    if entry.index > highestCommitted {
                        highestCommitted = entry.index
                        let observedTerm = cluster.ids.map { cluster[$0].term }.max() ?? 0
                        commitHistory.append((entry.index, observedTerm))
                    }
                }
            }
            checkedApplied[id] = appliedEntries.count
        }
        if let failure = checkLogMatching(cluster) { return failure }
        if let failure = checkLeaderCompleteness(cluster) { return failure }
        return checksQuorumDurability ? checkCommitDurability(cluster) : nil
    }

    /// Log matching: if two logs hold an entry with the same index and term,
    /// they are identical up to it.
    private func checkLogMatching(_ cluster: TestCluster) -> String? {
        let logs = cluster.ids.map { ($0, cluster.logEntries($0)) }
        for a in 0..<logs.count {
            for b in (a + 1)..<logs.count {
                let (idA, logA) = logs[a]
                let (idB, logB) = logs[b]
                guard let firstA = logA.first?.index, let firstB = logB.first?.index else { continue }
                let first = max(firstA, firstB)
                let last = min(firstA + UInt64(logA.count), firstB + UInt64(logB.count))
                guard first < last else { continue }
                var index = last - 1
                // Find the highest common index with equal terms...
                while index >= first, logA[Int(index - firstA)].term != logB[Int(index - firstB)].term {
                    if index == first { break }
                    index -= 1
                }
                guard logA[Int(index - firstA)].term == logB[Int(index - firstB)].term else { continue }
                // ...below which every entry must be identical.
                var check = first
                while check <= index {
                    if logA[Int(check - firstA)] != logB[Int(check - firstB)] {
                        return "log matching: nodes \(idA) and \(idB) agree at \(index) but differ at \(check)"
                    }
                    check += 1
                }
            }
        }
        return nil
    }

    /// Leader completeness: the log of a leader elected after an entry was
    /// committed holds that entry. (A deposed leader that does not know it
    /// yet may legitimately lack entries committed in later terms.)
    private func checkLeaderCompleteness(_ cluster: TestCluster) -> String? {
        for id in cluster.leaders {
            let replica = cluster[id]
            guard let latest = commitHistory.last(where: { $0.observedTerm < replica.term }),
                  let entry = committed[latest.index] else { continue }
            if replica.lastIndex < entry.index {
                return "leader completeness: leader \(id) (term \(replica.term)) lacks committed index \(entry.index)"
            }
            if let term = replica.log.term(at: entry.index), term != entry.term {
                return "leader completeness: leader \(id) (term \(replica.term)) has term \(term) at committed index \(entry.index), not \(entry.term)"
            }
        }
        return nil
    }

    /// Persistence contract: whatever any node believes committed is durable
    /// on a majority of the (fixed) voters.
    private func checkCommitDurability(_ cluster: TestCluster) -> String? {
        let majority = cluster.ids.count / 2 + 1
        for id in cluster.ids {
            let replica = cluster[id]
            let commit = replica.commitIndex
            guard commit > 0, let term = replica.log.term(at: commit) else { continue }
            var holders = 0
            for other in cluster.ids {
                let storage = cluster[other].storage
                if storage.snapshot.index >= commit || storage.term(at: commit) == term { holders += 1 }
            }
            if holders < majority {
                return "node \(id) has commit \(commit) but only \(holders) nodes hold it durably"
            }
        }
        return nil
    }
}
