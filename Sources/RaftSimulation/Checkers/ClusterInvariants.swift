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

    mutating func check(node: SimulatedNode, engine: SimulatedNode.Engine) -> [String] {
        var problems: [String] = []
        let core = engine.core
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
        if core.commitIndex < node.lastCommit {
            problems.append("commit index of n\(node.id) went back from \(node.lastCommit) to \(core.commitIndex)")
        }
        node.lastCommit = core.commitIndex
        let digest = engine.stateMachine.store.digest
        if let known = digests[core.appliedIndex], known != digest {
            problems.append("snapshot consistency: n\(node.id) at applied index \(core.appliedIndex) has digest \(digest), another node \(known)")
        } else {
            digests[core.appliedIndex] = digest
        }
        if core.role == .leader {
            if let known = leaders[core.term] {
                if known != node.id {
                    problems.append("election safety: n\(node.id) and n\(known) both lead term \(core.term)")
                }
            } else {
                leaders[core.term] = node.id
                problems += checkCompleteness(of: node, engine: engine)
            }
        }
        return problems
    }

    private func checkCompleteness(of node: SimulatedNode, engine: SimulatedNode.Engine) -> [String] {
        let storage = engine.core.storage
        guard highestApplied > storage.snapshot.index else { return [] }
        guard engine.core.lastIndex >= highestApplied else {
            return ["leader completeness: n\(node.id) leads term \(engine.core.term) with last index \(engine.core.lastIndex), but index \(highestApplied) was applied"]
        }
        for index in (storage.snapshot.index + 1)...highestApplied {
            guard let known = applied[index], let term = storage.term(at: index) else { continue }
            if term != known.term {
                return ["leader completeness: n\(node.id) leads term \(engine.core.term) with term \(term) at index \(index), where term \(known.term) was applied"]
            }
        }
        return []
    }
}
