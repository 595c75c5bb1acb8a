import Raft
import RaftCore
import WAL

extension ClusterSimulation {
    /// Draws this tick's node and storage faults.
    func injectNodeFaults() {
        let running = sortedNodes().filter(\.isUp)
        if chance(nodeFaults.powerLossRate), !running.isEmpty {
            count(.powerLoss)
            trace("power loss: every node crashes")
            for node in running { crashForFault(node) }
            return
        }
        if now < churnUntil {
            // Each new leader gets a few ticks: enough to append, not to replicate everywhere.
            if let leader = currentLeader, let since = leaderSince[leader.id], now >= since + churnGrace {
                count(.crash)
                trace("churn: leader n\(leader.id) crashes")
                leader.crash(until: now + UInt64.random(in: 5...40, using: &random))
                churnGrace = UInt64.random(in: 1...6, using: &random)
            }
        } else if chance(nodeFaults.leaderChurnRate) {
            count(.leaderChurn)
            churnUntil = now + UInt64.random(in: 200...1500, using: &random)
            churnGrace = UInt64.random(in: 1...6, using: &random)
            trace("leader churn until \(churnUntil)")
        }
        // Half the crashes hit the leader: losing it mid-replication is where Raft's commit
        // rules earn their keep (Figure 8 of the paper).
        if chance(nodeFaults.crashRate), let node = Bool.random(using: &random) ? currentLeader ?? pick(running) : pick(running) {
            count(.crash)
            trace("n\(node.id) crashes")
            crashForFault(node)
        }
        if chance(nodeFaults.syncErrorRate), let node = pick(running) {
            count(.syncError)
            trace("n\(node.id): next fsync fails with EIO")
            node.fileSystem.failNextSync()
        }
        if chance(nodeFaults.writeErrorRate), let node = pick(running) {
            count(.writeError)
            trace("n\(node.id): next write fails with EIO")
            node.fileSystem.failNextWrite()
        }
        if chance(nodeFaults.diskFullRate), let node = pick(running) {
            count(.diskFull)
            let room = Int.random(in: 0...8192, using: &random)
            trace("n\(node.id): disk full after \(room) more bytes")
            node.fileSystem.limitSpace(to: room)
        }
    }

    /// Crashes a node, and perhaps damages its disk while it is down. At most one node's disk
    /// is damaged at a time, and never while a replacement is under way: losing the data of
    /// a majority is not a fault Raft can survive.
    private func crashForFault(_ node: SimulatedNode) {
        node.crash(until: now + downtime())
        guard membership.isIdle, !sortedNodes().contains(where: \.damaged) else { return }
        if chance(nodeFaults.diskLossRate) {
            count(.diskLoss)
            trace("n\(node.id) loses its disk")
            replace(node)
        } else if chance(nodeFaults.bitFlipRate) {
            flipBit(on: node)
        }
    }

    /// Flips one bit in a log segment or snapshot file of a crashed node.
    private func flipBit(on node: SimulatedNode) {
        let fileSystem = node.fileSystem
        var candidates: [(path: String, kind: NodeFaultKind)] = []
        for (directory, kind) in [("/node/log", NodeFaultKind.bitFlipLog), ("/node/snapshots", .bitFlipSnapshot)] {
            let names = (try? fileSystem.contentsOfDirectory(directory)) ?? []
            for name in names where name.hasSuffix(".wal") || name.hasSuffix(".snap") {
                candidates.append((directory + "/" + name, kind))
            }
        }
        guard let target = pick(candidates), let size = fileSystem.contents(of: target.path)?.count, size > 0 else {
            return
        }
        let offset = Int.random(in: 0..<size, using: &random)
        let bit = Int.random(in: 0..<8, using: &random)
        fileSystem.flipBit(path: target.path, offset: offset, bit: bit)
        node.damaged = true
        count(target.kind)
        trace("n\(node.id): bit \(bit) flipped at \(target.path):\(offset)")
    }

    /// Retires a node whose disk is gone and schedules a new member, with a new id and an
    /// empty disk, to take its place: removed, then added as a learner, then promoted.
    func replace(_ node: SimulatedNode) {
        node.crash(until: .max)
        node.state = .retired
        node.damaged = false
        let id = nextNodeID
        nextNodeID += 1
        let newcomer = SimulatedNode(
            id: id, fileSystem: SimulatedFileSystem(seed: random.next()), bootstrap: .joinExisting,
            state: .waitingToJoin)
        nodes[id] = newcomer
        membership.replace(node.id, with: id)
        trace("n\(node.id) retired; n\(id) will join in its place")
    }

    func chance(_ rate: Double) -> Bool {
        rate > 0 && Double.random(in: 0..<1, using: &random) < rate
    }

    func pick<Element>(_ elements: [Element]) -> Element? {
        elements.isEmpty ? nil : elements[Int.random(in: 0..<elements.count, using: &random)]
    }
}
