import Raft
import RaftCore

/// The operator who replaces a node whose disk was lost: remove the old id, add the new node
/// as a learner, start it, wait for it to catch up, then promote it to voter. Each step is a
/// membership change through whichever node leads, retried until it is applied.
struct MembershipRepair {
    private enum Step: Equatable {
        case remove(NodeID)
        case addLearner(NodeID)
        case start(NodeID)
        case promote(NodeID)
    }

    private var steps: [Step] = []
    private var inFlight = false
    private var nextAttempt: UInt64 = 0
    /// A change's completion, kept so that it lands in this struct even though the engine
    /// calls it later.
    private let outcome = Outcome()

    private final class Outcome {
        var result: Result<Void, RaftNodeError>?
    }

    var isIdle: Bool { steps.isEmpty && !inFlight }

    private static func isDone(_ step: Step, in configuration: Configuration) -> Bool {
        switch step {
        case .remove(let id): !configuration.members.contains(id)
        case .addLearner(let id): configuration.members.contains(id)
        case .promote(let id): configuration.voters.contains(id) && !configuration.isJoint
        case .start: false
        }
    }

    mutating func replace(_ old: NodeID, with new: NodeID) {
        steps += [.remove(old), .addLearner(new), .start(new), .promote(new)]
    }

    mutating func step(at now: UInt64, simulation: ClusterSimulation) async {
        if inFlight {
            guard let result = outcome.result else {
                // A change can be lost with its leader; try again after a while.
                if now >= nextAttempt { inFlight = false }
                return
            }
            outcome.result = nil
            inFlight = false
            switch result {
            case .success:
                simulation.trace("membership: \(steps[0]) applied")
                steps.removeFirst()
            case .failure(let error):
                simulation.trace("membership: \(steps[0]) failed: \(error)")
                nextAttempt = now + 10
            }
            return
        }
        guard let step = steps.first, now >= nextAttempt else { return }
        switch step {
        case .start(let id):
            guard let node = simulation.nodes[id] else { return }
            if node.state == .waitingToJoin { await simulation.restart(node) }
            if node.isUp { steps.removeFirst() }
            return
        case .promote(let id):
            // Promote only a learner that has caught up, so the new quorum can make progress.
            guard let leader = simulation.currentLeader?.engine,
                let learner = simulation.nodes[id]?.engine,
                learner.appliedIndex + 5 >= leader.commitIndex
            else { return }
        case .remove, .addLearner:
            break
        }
        guard let leader = simulation.currentLeader, let engine = leader.engine else { return }
        if Self.isDone(step, in: engine.membership) {
            // Applied earlier, though its completion was lost with a leader.
            steps.removeFirst()
            return
        }
        let change: ConfChange
        switch step {
        case .remove(let id): change = ConfChange([.remove(id)])
        case .addLearner(let id): change = ConfChange([.addLearner(id)])
        case .promote(let id): change = ConfChange([.addVoter(id)])
        case .start: return
        }
        inFlight = true
        nextAttempt = now + 200
        outcome.result = nil
        let outcome = self.outcome
        simulation.trace("membership: proposing \(step) on n\(leader.id)")
        await engine.changeMembership(change) { outcome.result = $0 }
        simulation.afterInput(leader)
    }
}
