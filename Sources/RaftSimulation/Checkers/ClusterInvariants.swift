import Raft
import RaftCore

/// The safety properties checked after every tick of a cluster simulation:
///
/// - **Election safety**: at most one leader per term, over the whole run.
/// - **Leader completeness**: a new leader's log holds every entry applied anywhere, with the
///   same term.
/// - **State-machine safety**: no two nodes apply different commands at the same index.
/// - **Commit monotonic**: a node's commit index never decreases while it runs.
/// - **Snapshot consistency**: nodes that applied through the same index hold equal state
///   (equal digests), however they got there (applying, or restoring a snapshot).
struct ClusterInvariants {
    private var leaders: [UInt64: NodeID] = [:]
    /// The term and command hash applied at each index, by whichever node applied it first.
    private var applied: [UInt64: (term: UInt64, hash: UInt64)] = [:]
    private var highestApplied: UInt64 = 0
    private var digests: [UInt64: UInt64] = [:]

    /// The node seen leading `term`, if any.
    func leader(ofTerm term: UInt64) -> NodeID? { leaders[term] }

    mutating func check(node: SimulatedNode, engine: SimulatedNode.Engine) -> [String] {
        var problems: [String] = []
        for command in engine.stateMachine.appliedLog.take() {
            if let known = applied[command.index] {
                if known.term != command.term || known.hash != command.hash {
                    problems.append(
                        "state-machine safety: n\(node.id) applied term \(command.term) hash \(command.hash) at index \(command.index), another node term \(known.term) hash \(known.hash)")
                }
            } else {
                applied[command.index] = (command.term, command.hash)
                highestApplied = max(highestApplied, command.index)
            }
        }
        if engine.invariantViolations > 0 {
            problems.append("internal invariant: n\(node.id)'s core counted \(engine.invariantViolations) broken invariants")
        }
        let commit = engine.commitIndex
        if commit < node.lastCommit {
            problems.append("commit index of n\(node.id) went back from \(node.lastCommit) to \(commit)")
        }
        node.lastCommit = commit
        let appliedIndex = engine.appliedIndex
        if appliedIndex != node.lastCheckedApplied {
            // The state changes only when the applied index does.
            node.lastCheckedApplied = appliedIndex
            let digest = engine.stateMachine.store.digest
            if let known = digests[appliedIndex], known != digest {
                problems.append(
                    "snapshot consistency: n\(node.id) at applied index \(appliedIndex) has digest \(digest), another node \(known)")
            } else {
                digests[appliedIndex] = digest
            }
        }
        if engine.role == .leader {
            let term = engine.term
            if let known = leaders[term] {
                if known != node.id { problems.append("election safety: n\(node.id) and n\(known) both lead term \(term)") }
            } else {
                leaders[term] = node.id
                problems += checkCompleteness(of: node, engine: engine)
            }
        }
        return problems
    }

    private func checkCompleteness(of node: SimulatedNode, engine: SimulatedNode.Engine) -> [String] {
        let snapshotIndex = engine.snapshotIndex
        guard highestApplied > snapshotIndex else { return [] }
        guard engine.lastIndex >= highestApplied else {
            return ["leader completeness: n\(node.id) leads term \(engine.term) with last index \(engine.lastIndex), but index \(highestApplied) was applied"]
        }
        for index in (snapshotIndex + 1)...highestApplied {
            guard let known = applied[index], let term = engine.storedTerm(at: index) else { continue }
            if term != known.term {
                return ["leader completeness: n\(node.id) leads term \(engine.term) with term \(term) at index \(index), where term \(known.term) was applied"]
            }
        }
        return []
    }
}
