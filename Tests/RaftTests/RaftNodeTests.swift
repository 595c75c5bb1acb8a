import Foundation
import Logging
import Raft
import RaftCore
import RaftSimulation
import Synchronization
import Testing
import WAL

/// The public `RaftNode` service: real tasks, a real clock, the WAL's background threads, and
/// an in-process transport.
@Suite struct RaftNodeTests {
    typealias Node = RaftNode<SimulatedFileSystem, KVStateMachine, LocalTransport, ContinuousClock>

    private static func configuration(
        id: NodeID, voters: Set<NodeID>, tick: Duration, snapshotEvery entries: Int
    ) -> RaftNodeConfiguration {
        var configuration = RaftNodeConfiguration(
            id: id, directory: "/node", bootstrap: .newCluster(voters: voters), randomSeed: id)
        configuration.tickInterval = tick
        configuration.snapshotEntryThreshold = entries
        let silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.logger = silent
        configuration.wal.logger = silent
        configuration.snapshots.logger = silent
        return configuration
    }

    private func makeCluster(
        _ ids: [NodeID], transport: LocalTransport, tick: Duration = .milliseconds(5), snapshotEvery: Int = 20
    ) -> [NodeID: Node] {
        var nodes: [NodeID: Node] = [:]
        for id in ids {
            let configuration = Self.configuration(id: id, voters: Set(ids), tick: tick, snapshotEvery: snapshotEvery)
            nodes[id] = Node(
                configuration: configuration, fileSystem: SimulatedFileSystem(seed: id), stateMachine: KVStateMachine(),
                transport: transport, clock: ContinuousClock())
        }
        transport.connect(nodes)
        return nodes
    }

    /// Polls until some node leads; nil after ten seconds.
    private func leader(of nodes: [NodeID: Node]) async -> NodeID? {
        for _ in 0..<2000 {
            if let leader = nodes.values.compactMap(\.status).first(where: { $0.role == .leader })?.raft.id {
                return leader
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    @Test func aClusterOfServicesElectsReplicatesReadsAndShutsDown() async throws {
        let transport = LocalTransport()
        let nodes = makeCluster([1, 2, 3], transport: transport)
        try await withThrowingTaskGroup { group in
            for node in nodes.values { group.addTask { try await node.run() } }

            guard let leaderID = await leader(of: nodes), let leader = nodes[leaderID] else {
                Issue.record("no leader within ten seconds")
                for node in nodes.values { node.shutdown() }
                return
            }
            for number in 0..<30 {
                let result = try await leader.propose(KVCommand.put(key: "k\(number % 5)", value: [UInt8(number)]).encoded())
                #expect(result == .ok)
            }
            let follower = nodes[leaderID == 1 ? 2 : 1]!
            do throws(RaftNodeError) {
                _ = try await follower.propose(KVCommand.put(key: "x", value: [1]).encoded())
                Issue.record("a follower accepted a proposal")
            } catch {
                guard case .notLeader(let hint) = error else { throw error }
                #expect(hint == leaderID, "a follower names the leader")
            }
            // A linearizable read on a follower sees the last acknowledged write.
            let value = try await follower.read { machine in machine.store["k4"] }
            #expect(value == [29])
            let snapshotIndex = try await leader.snapshot()
            #expect(snapshotIndex >= 30, "snapshot at \(snapshotIndex)")
            let status = try #require(leader.status)
            #expect(status.snapshotIndex == snapshotIndex && status.firstIndex == snapshotIndex + 1)
            #expect(status.configuration.voters == [1, 2, 3])

            for node in nodes.values { node.shutdown() }
            try await group.waitForAll()
        }
        // After shutdown, requests fail with a typed error instead of hanging.
        await #expect(throws: RaftNodeError.self) { _ = try await nodes[1]!.propose([1]) }
    }

    /// Requests beyond the bound fail at once with `.overloaded`, even after the node has
    /// been ticking for a while (ticks must not count against the bound).
    @Test func requestsBeyondTheBoundFailFastWithOverloaded() async throws {
        let transport = LocalTransport()
        var configuration = Self.configuration(id: 1, voters: [1], tick: .milliseconds(1), snapshotEvery: 1_000)
        configuration.maxPendingProposals = 4
        let node = Node(
            configuration: configuration, fileSystem: SimulatedFileSystem(seed: 5), stateMachine: KVStateMachine(),
            transport: transport, clock: ContinuousClock())
        try await withThrowingTaskGroup { group in
            group.addTask { try await node.run() }
            guard await leader(of: [1: node]) != nil else {
                Issue.record("no leader")
                node.shutdown()
                return
            }
            // Long enough for hundreds of ticks, more than the requests below.
            try await Task.sleep(for: .milliseconds(600))
            // Far more requests than the bound, issued at once: some must be refused.
            let outcomes = await withTaskGroup(of: Bool.self) { requests in
                for number in 0..<200 {
                    requests.addTask {
                        do throws(RaftNodeError) {
                            _ = try await node.propose(KVCommand.put(key: "k", value: [UInt8(number % 256)]).encoded())
                            return true
                        } catch {
                            guard case .overloaded = error else { return true }
                            return false
                        }
                    }
                }
                return await requests.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.contains(false), "no request was refused as overloaded")
            #expect(outcomes.contains(true), "no request got through")
            node.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func aNodeRestartedFromItsDiskKeepsEverythingAcknowledged() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        func single() -> RaftNode<SimulatedFileSystem, KVStateMachine, LocalTransport, ContinuousClock> {
            let configuration = Self.configuration(id: 1, voters: [1], tick: .milliseconds(2), snapshotEvery: 7)
            return RaftNode(
                configuration: configuration, fileSystem: fileSystem, stateMachine: KVStateMachine(),
                transport: LocalTransport(), clock: ContinuousClock())
        }
        for round in 0..<3 {
            let node = single()
            try await withThrowingTaskGroup { group in
                group.addTask { try await node.run() }
                guard await leader(of: [1: node]) != nil else {
                    Issue.record("round \(round): no leader")
                    node.shutdown()
                    return
                }
                for earlier in 0..<(round * 10) {
                    let value = try await node.read { $0.store["r\(earlier)"] }
                    #expect(value == [UInt8(earlier)], "round \(round): r\(earlier) survived the restart")
                }
                for number in (round * 10)..<(round * 10 + 10) {
                    #expect(try await node.propose(KVCommand.put(key: "r\(number)", value: [UInt8(number)]).encoded()) == .ok)
                }
                node.shutdown()
                try await group.waitForAll()
            }
        }
    }

    /// Issue 10, finding 8: a cancelled caller stops waiting at once, with an error that says
    /// the outcome is unknown, even though its proposal may still be in the node.
    @Test func cancellingAProposalEndsTheWaitWithCancelled() async throws {
        let transport = LocalTransport()
        // Slow ticks: check-quorum would only depose the cut-off leader after seconds.
        let nodes = makeCluster([1, 2, 3], transport: transport, tick: .milliseconds(50), snapshotEvery: 1_000)
        try await withThrowingTaskGroup { group in
            for node in nodes.values { group.addTask { try await node.run() } }
            guard let leaderID = await leader(of: nodes), let leader = nodes[leaderID] else {
                Issue.record("no leader")
                for node in nodes.values { node.shutdown() }
                return
            }
            transport.cut.store(true, ordering: .relaxed)
            let waiting = Task { try await leader.propose(KVCommand.put(key: "k", value: [1]).encoded()) }
            try await Task.sleep(for: .milliseconds(50))
            waiting.cancel()
            let outcome = await waiting.result
            guard case .failure(let error) = outcome, case .cancelled? = error as? RaftNodeError else {
                Issue.record("expected .cancelled, got \(outcome)")
                for node in nodes.values { node.shutdown() }
                return
            }
            #expect(RaftNodeError.cancelled.description.contains("unknown"), "the error says the outcome is unknown")
            for node in nodes.values { node.shutdown() }
            try await group.waitForAll()
        }
    }

    /// Issue 10, finding 9: a request made before `run()` fails at once instead of waiting
    /// for a loop that may never run.
    @Test func aRequestBeforeRunFailsWithNotStarted() async {
        let node = Node(
            configuration: Self.configuration(id: 1, voters: [1], tick: .milliseconds(5), snapshotEvery: 100),
            fileSystem: SimulatedFileSystem(seed: 31), stateMachine: KVStateMachine(), transport: LocalTransport(),
            clock: ContinuousClock())
        let proposal = await Task { try await node.propose([1]) }.result
        guard case .failure(let proposeError) = proposal, case .notStarted? = proposeError as? RaftNodeError else {
            Issue.record("propose: \(proposal)")
            return
        }
        let read = await Task { try await node.read { $0.store["k"] } }.result
        guard case .failure(let readError) = read, case .notStarted? = readError as? RaftNodeError else {
            Issue.record("read: \(read)")
            return
        }
    }

    /// Issue 10, finding 9: `run()` creates a node directory that does not exist yet.
    @Test func runCreatesAMissingNodeDirectory() async throws {
        let base = "/tmp/raft-node-tests-\(UInt64.random(in: 0...UInt64.max))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        var configuration = Self.configuration(id: 1, voters: [1], tick: .milliseconds(5), snapshotEvery: 100)
        configuration.directory = base + "/deeper/n1"
        let node = RaftNode(
            configuration: configuration, fileSystem: PosixFileSystem(), stateMachine: KVStateMachine(),
            transport: LocalTransport(), clock: ContinuousClock())
        try await withThrowingTaskGroup { group in
            group.addTask { try await node.run() }
            var leading = false
            for _ in 0..<2000 where !leading {
                leading = node.status?.role == .leader
                if !leading { try await Task.sleep(for: .milliseconds(5)) }
            }
            guard leading else {
                Issue.record("the node did not start in a missing directory: \(String(describing: node.status?.stopReason))")
                node.shutdown()
                return
            }
            #expect(try await node.propose(KVCommand.put(key: "k", value: [1]).encoded()) == .ok)
            node.shutdown()
            try await group.waitForAll()
        }
        #expect(FileManager.default.fileExists(atPath: base + "/deeper/n1/log"))
    }
}
