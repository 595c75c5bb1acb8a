import Raft
import RaftCore
import WAL

/// A cluster of real `Raft` node engines, with the real write-ahead log and snapshot store on
/// `SimulatedFileSystem`s, a `SimulatedNetwork`, simulated clients, and fault injection, all
/// in one task and driven by one seed: the same seed gives the same run, event for event.
///
/// A run has two phases. For `faultTicks` ticks the network nemesis and the node faults do
/// their worst while clients issue puts, gets and compare-and-sets. Then the faults stop,
/// the network heals, every node restarts, and within `livenessTicks` a leader must be
/// elected and every member must converge. Invariants are checked after every tick, and the
/// client history is checked for linearizability at the end.
public final class ClusterSimulation {
    let options: SimulationOptions
    var random: SplitMix64
    var network: SimulatedNetwork<Envelope>
    var nemesis: NetworkNemesis
    let nodeFaults: NodeFaults
    let tuning: SimulatedNodeTuning
    /// Every node ever created, by id; retired ones stay for the record.
    var nodes: [NodeID: SimulatedNode] = [:] {
        didSet { nodesInOrder = nodes.keys.sorted().compactMap { nodes[$0] } }
    }
    /// `nodes` in id order, kept up to date: iterating the dictionary itself would depend on
    /// the process's hash seed.
    private var nodesInOrder: [SimulatedNode] = []
    var nextNodeID: NodeID
    var now: UInt64 = 0
    var workload: ClientWorkload
    var invariants = ClusterInvariants()
    var membership = MembershipRepair()
    var report: SimulationReport
    var nodeFaultCounts: [NodeFaultKind: Int] = [:]
    var inLivenessPhase = false
    /// The tick each node was first seen leading its current term.
    var leaderSince: [NodeID: UInt64] = [:]
    /// Until when leader churn goes on, and how long a leader lasts in it.
    var churnUntil: UInt64 = 0
    var churnGrace: UInt64 = 1
    /// The chance, per node and tick, that its log makes what it holds durable; drawn per
    /// seed, so some runs have fast disks and some slow ones with writes in flight for ticks.
    let diskSpeed: Double

    /// Prepares a run; `run()` carries it out.
    public init(options: SimulationOptions) {
        self.options = options
        var random = SplitMix64(seed: options.seed)
        let nodeCount = options.nodeCount ?? (Bool.random(using: &random) ? 3 : 5)
        let networkFaults = options.networkFaults ?? NetworkFaults.random(using: &random, everyKind: options.everyFaultKind)
        nodeFaults = options.nodeFaults ?? NodeFaults.random(using: &random, everyKind: options.everyFaultKind)
        tuning = SimulatedNodeTuning(
            snapshotEntryThreshold: Int.random(in: 20...400, using: &random),
            snapshotChunkSize: Int.random(in: 64...2048, using: &random),
            segmentSize: Int.random(in: 4096...65536, using: &random),
            maxMessageBytes: [1, 64, 1024, 1 << 20][Int.random(in: 0..<4, using: &random)],
            maxInflightMessages: [1, 2, 8, 256][Int.random(in: 0..<4, using: &random)])
        diskSpeed = [0.25, 0.5, 0.8, 1.0][Int.random(in: 0..<4, using: &random)]
        let ids = (1...NodeID(nodeCount)).map { $0 }
        network = SimulatedNetwork(seed: random.next(), faults: networkFaults)
        nemesis = NetworkNemesis(nodes: ids, faults: networkFaults, seed: random.next())
        workload = ClientWorkload(clients: options.clients, keys: options.keys, seed: random.next())
        nextNodeID = NodeID(nodeCount) + 1
        report = SimulationReport(seed: options.seed, nodeCount: nodeCount)
        self.random = random
        for id in ids {
            let fileSystem = SimulatedFileSystem(seed: self.random.next())
            nodes[id] = SimulatedNode(
                id: id, fileSystem: fileSystem, bootstrap: .newCluster(voters: Set(ids)), state: .down(until: 0))
        }
        // Observers do not run during initialization.
        nodesInOrder = ids.compactMap { nodes[$0] }
        trace("cluster of \(nodeCount): network \(networkFaults)")
        trace("node faults \(nodeFaults)")
    }

    /// Runs the simulation and returns what it found.
    public func run() async -> SimulationReport {
        let end = options.faultTicks + options.livenessTicks
        while now < end && report.violations.isEmpty {
            now += 1
            // A run rarely suspends on its own; yielding now and then lets other tasks on the
            // cooperative pool (other tests, a progress display) make progress meanwhile.
            if now % 1_000 == 0 { await Task.yield() }
            if now == options.faultTicks + 1 { beginLivenessPhase() }
            if !inLivenessPhase {
                for line in nemesis.step(&network, at: now, leader: currentLeader?.id) { trace(line) }
                injectNodeFaults()
            }
            await restartDueNodes()
            await deliverMessages()
            await completeWrites()
            await tickNodes()
            await workload.step(at: now, simulation: self)
            await membership.step(at: now, simulation: self)
            checkInvariants()
            if inLivenessPhase, report.violations.isEmpty, converged() {
                recordFinalState()
                break
            }
        }
        if report.violations.isEmpty && now >= end {
            violation("liveness: no convergence within \(options.livenessTicks) ticks of healing: \(clusterSummary())")
        }
        if report.violations.isEmpty { checkLinearizability() }
        report.ticks = now
        for (kind, count) in network.faultCounts { report.faults[kind.rawValue, default: 0] += count }
        for (kind, count) in nodeFaultCounts { report.faults[kind.rawValue, default: 0] += count }
        return report
    }

    // MARK: Steps

    private func beginLivenessPhase() {
        inLivenessPhase = true
        nemesis.stop(&network)
        network.heal()
        // Message faults stop too: a round trip slower than the election timeout would keep
        // any leader from being elected, which is a fault, not a liveness bug.
        network.faults = .none
        trace("faults stop; network healed")
        for node in sortedNodes() {
            node.fileSystem.clearFaults()
            if case .down = node.state { node.state = .down(until: now) }
        }
    }

    private func restartDueNodes() async {
        for node in sortedNodes() {
            guard case .down(let until) = node.state, until <= now else { continue }
            await restart(node)
        }
    }

    private func deliverMessages() async {
        for delivery in network.deliver(at: now) {
            guard let node = nodes[delivery.to], node.isUp, let engine = node.engine else { continue }
            await engine.receive(delivery.payload)
            afterInput(node)
        }
    }

    /// Lets each node's log make some of its held writes durable, oldest first: the
    /// simulated disk completes writes later than they were made, and a crash before then
    /// loses them.
    private func completeWrites() async {
        for node in sortedNodes() where node.isUp {
            guard let engine = node.engine, engine.heldWriteCount > 0 else { continue }
            guard Double.random(in: 0..<1, using: &random) < diskSpeed else { continue }
            let count = Bool.random(using: &random) ? Int.max : Int.random(in: 1...engine.heldWriteCount, using: &random)
            await engine.releaseHeldWrites(count)
            afterInput(node)
        }
    }

    private func tickNodes() async {
        for node in sortedNodes() where node.isUp && !network.pausedNodes.contains(node.id) {
            guard let engine = node.engine else { continue }
            await engine.tick()
            afterInput(node)
        }
    }

    /// Moves what the node sent into the network, and notices a node that stopped itself.
    func afterInput(_ node: SimulatedNode) {
        for envelope in node.outbox.take() {
            network.send(envelope, from: node.id, to: envelope.to, at: now)
        }
        for failure in node.outbox.takeCodecFailures() { violation("n\(node.id): \(failure)") }
        guard let engine = node.engine, let failure = engine.failure else { return }
        count(.nodeStopped)
        trace("n\(node.id) stopped: \(failure)")
        node.crash(until: now + downtime())
    }

    func restart(_ node: SimulatedNode) async {
        do throws(RaftNodeError) {
            try await node.start(seed: options.seed ^ node.id, tuning: tuning)
            trace("n\(node.id) started (incarnation \(node.incarnation))")
            node.damaged = false
        } catch {
            guard node.damaged else {
                // Only a disk we damaged may refuse to open; anything else is a bug.
                return violation("n\(node.id) failed to recover from a clean crash: \(error)")
            }
            count(.unrecoverableDisk)
            trace("n\(node.id) refuses its damaged disk: \(error)")
            replace(node)
        }
    }

    // MARK: Queries

    func sortedNodes() -> [SimulatedNode] {
        nodesInOrder
    }

    /// The running leader of the highest term, if any.
    var currentLeader: SimulatedNode? {
        sortedNodes().filter { $0.isUp && $0.engine?.role == .leader }
            .max { ($0.engine?.term ?? 0) < ($1.engine?.term ?? 0) }
    }

    func downtime() -> UInt64 {
        UInt64.random(in: nodeFaults.downtime, using: &random)
    }

    /// Whether a leader leads every member, and all of them applied everything it holds.
    private func converged() -> Bool {
        guard membership.isIdle, let leader = currentLeader?.engine,
            !leader.membership.isJoint, leader.commitIndex == leader.lastIndex
        else { return false }
        let digest = leader.stateMachine.store.digest
        for member in leader.membership.members.sorted() {
            guard let node = nodes[member], node.isUp, let engine = node.engine,
                engine.appliedIndex == leader.commitIndex, engine.stateMachine.store.digest == digest
            else { return false }
        }
        return workload.isIdle
    }

    private func clusterSummary() -> String {
        sortedNodes().filter { $0.state != .retired }.map { node in
            guard let engine = node.engine else { return "n\(node.id) \(node.state)" }
            return "n\(node.id) \(engine.role) term \(engine.term) commit \(engine.commitIndex) applied \(engine.appliedIndex) last \(engine.lastIndex)"
        }.joined(separator: "; ")
    }

    // MARK: Checks

    private func checkInvariants() {
        for node in sortedNodes() where node.isUp {
            guard let engine = node.engine else { continue }
            let wasLeading = invariants.leader(ofTerm: engine.term) == node.id
            for problem in invariants.check(node: node, engine: engine) { violation(problem) }
            if !wasLeading && engine.role == .leader {
                leaderSince[node.id] = now
                trace("n\(node.id) leads term \(engine.term) (commit \(engine.commitIndex), last \(engine.lastIndex))")
            }
        }
    }

    /// Adds a final read of every key, from the converged leader, to the history: the last
    /// word on whether acknowledged writes survived.
    private func recordFinalState() {
        guard let store = currentLeader?.engine?.stateMachine.store else { return }
        workload.recordFinalReads(store: store, at: now)
        trace("converged at tick \(now), state digest \(store.digest): \(clusterSummary())")
    }

    private func checkLinearizability() {
        let history = workload.history.compactMap { $0 }
        report.operationsChecked = history.count
        report.operationsUnknown = history.filter { $0.outcome == .unknown }.count
        switch LinearizabilityChecker().check(history) {
        case .linearizable:
            report.linearizability = "linearizable"
        case .violation(let key, let operations, let explanation):
            report.linearizability = "violation on key \(key)"
            let involved = operations.prefix(12).map { "\(history[$0])" }.joined(separator: "\n  ")
            violation("linearizability: key \(key): \(explanation)\n  \(involved)")
        case .unknown(let reason):
            report.linearizability = "unknown: \(reason)"
        }
    }

    // MARK: Recording

    func trace(_ line: @autoclosure () -> String) {
        if options.recordsTrace { report.trace.append("t=\(now) \(line())") }
    }

    func violation(_ description: String) {
        report.violations.append("t=\(now): \(description)")
        trace("VIOLATION \(description)")
    }

    func count(_ kind: NodeFaultKind) {
        nodeFaultCounts[kind, default: 0] += 1
    }
}
