import Foundation
import Logging
import Raft
import RaftCore
import RaftSimulation
import Testing
import WAL

/// Issue 9, item 3: taking a snapshot must not stop heartbeats. A ``FreezableStateMachine``'s
/// snapshot is written off the run loop, so a leader whose snapshot takes many election
/// timeouts keeps its term and goes on committing; the same slow snapshot written on the loop
/// (the control) costs it the leadership.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BackgroundSnapshotTests {
    /// How long writing the snapshot takes: 40 election timeouts of 50 ms.
    static let snapshotDelay = Duration.seconds(2)

    @Test func aSlowSnapshotOffTheLoopKeepsTheLeaderAndItsCommits() async throws {
        let outcome = try await snapshotUnderLoad { SlowSnapshotCounter(delay: Self.snapshotDelay) }
        #expect(outcome.termsDuring == [outcome.termBefore], "no node changed term while the snapshot was written")
        #expect(outcome.committedDuring == 20, "proposals made during the snapshot committed")
        #expect(outcome.snapshotIndex >= 21, "the snapshot covers what was applied when it was asked for")
        #expect(outcome.firstIndexAfter == outcome.snapshotIndex + 1, "the log was truncated through it")
        // Restarted from its disk, the leader's total is the snapshot's plus the replayed
        // entries after it: the frozen copy held exactly the state at the snapshot's index.
        #expect(outcome.totalBeforeRestart == UInt64(20 + outcome.committedDuring))
        #expect(outcome.totalAfterRestart == outcome.totalBeforeRestart)
    }

    /// The control: without freezing, the same slow snapshot is written on the loop, and the
    /// followers, hearing nothing, elect someone else. If this stopped happening, the test
    /// above would prove nothing.
    @Test func theSameSnapshotOnTheLoopCostsTheLeadership() async throws {
        let outcome = try await snapshotUnderLoad { OnTheLoop(counter: SlowSnapshotCounter(delay: Self.snapshotDelay)) }
        #expect(outcome.termsDuring.contains { $0 > outcome.termBefore }, "a follower started an election")
    }

    struct Outcome {
        var termBefore: UInt64
        var termsDuring: Set<UInt64>
        var committedDuring: Int
        var snapshotIndex: UInt64
        var firstIndexAfter: UInt64
        var totalBeforeRestart: UInt64
        var totalAfterRestart: UInt64
    }

    /// Three nodes with 5 ms ticks; 20 proposals, then a snapshot on the leader with 20 more
    /// proposals while it is written; then the leader alone is restarted from its disk.
    private func snapshotUnderLoad<SM: StateMachine & TotalCounting>(
        _ machine: @escaping () -> SM
    ) async throws -> Outcome where SM.Output == UInt64 {
        typealias Node = RaftNode<SimulatedFileSystem, SM, LocalTransport, ContinuousClock>
        let ids: [NodeID] = [1, 2, 3]
        let transport = LocalTransport()
        let fileSystems = Dictionary(uniqueKeysWithValues: ids.map { ($0, SimulatedFileSystem(seed: $0)) })
        func node(_ id: NodeID, voters: Set<NodeID>, transport: LocalTransport) -> Node {
            var configuration = RaftNodeConfiguration(
                id: id, directory: "/node", bootstrap: .newCluster(voters: voters), randomSeed: id)
            configuration.tickInterval = .milliseconds(5)
            configuration.snapshotEntryThreshold = 1_000_000
            let silent = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            configuration.logger = silent
            configuration.wal.logger = silent
            configuration.snapshots.logger = silent
            return Node(
                configuration: configuration, fileSystem: fileSystems[id]!, stateMachine: machine(),
                transport: transport, clock: ContinuousClock())
        }
        let nodes = Dictionary(uniqueKeysWithValues: ids.map { ($0, node($0, voters: Set(ids), transport: transport)) })
        transport.connect(nodes)
        var outcome = Outcome(
            termBefore: 0, termsDuring: [], committedDuring: 0, snapshotIndex: 0, firstIndexAfter: 0,
            totalBeforeRestart: 0, totalAfterRestart: 0)
        var leaderID: NodeID = 0
        try await withThrowingTaskGroup { group in
            for node in nodes.values { group.addTask { try await node.run() } }
            defer { for node in nodes.values { node.shutdown() } }
            leaderID = try #require(await Self.leader(of: Array(nodes.values)))
            let leader = nodes[leaderID]!
            for _ in 0..<20 { _ = try await leader.propose([1]) }
            outcome.termBefore = try #require(leader.status).term

            async let snapshot = leader.snapshot()
            try await Task.sleep(for: .milliseconds(100))
            for _ in 0..<20 {
                do throws(RaftNodeError) {
                    _ = try await leader.propose([1])
                    outcome.committedDuring += 1
                } catch {
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            outcome.snapshotIndex = try await snapshot
            outcome.termsDuring = Set(nodes.values.compactMap { $0.status?.term })
            outcome.firstIndexAfter = try #require(leader.status).firstIndex
            outcome.totalBeforeRestart = try await leader.read { $0.total }
        }
        // The whole cluster restarts from its disks; the old leader restores its snapshot and
        // replays the entries after it. Its total is then right only if the frozen copy held
        // exactly the state at the snapshot's index.
        let restarted = Dictionary(uniqueKeysWithValues: ids.map { ($0, node($0, voters: Set(ids), transport: transport)) })
        transport.connect(restarted)
        try await withThrowingTaskGroup { group in
            for node in restarted.values { group.addTask { try await node.run() } }
            defer { for node in restarted.values { node.shutdown() } }
            _ = try #require(await Self.leader(of: Array(restarted.values)))
            outcome.totalAfterRestart = try await restarted[leaderID]!.read { $0.total }
        }
        return outcome
    }

    private static func leader(of nodes: [RaftNode<SimulatedFileSystem, some StateMachine, LocalTransport, ContinuousClock>]) async -> NodeID? {
        for _ in 0..<2000 {
            if let leader = nodes.compactMap(\.status).first(where: { $0.role == .leader })?.raft.id { return leader }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}

/// A state machine whose total the tests read back.
protocol TotalCounting {
    var total: UInt64 { get }
}

/// Counts the commands applied; writing its snapshot takes `delay`.
struct SlowSnapshotCounter: FreezableStateMachine, TotalCounting {
    var total: UInt64 = 0
    let delay: Duration

    mutating func apply(_ commands: [CommittedCommand]) throws -> [UInt64] {
        commands.map { _ in
            total += 1
            return total
        }
    }

    func freeze() -> Frozen {
        Frozen(total: total, delay: delay)
    }

    func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await freeze().writeSnapshot(to: &sink)
    }

    mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        var bytes: [UInt8] = []
        for try await chunk in snapshot { bytes += chunk }
        guard bytes.count == 8 else { throw SnapshotError.invalidArgument("a counter snapshot is 8 bytes") }
        total = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    struct Frozen: FrozenState {
        let total: UInt64
        let delay: Duration

        func writeSnapshot(to sink: inout some SnapshotSink) async throws {
            try await Task.sleep(for: delay)
            try await sink.write(withUnsafeBytes(of: total) { Array($0) })
        }
    }
}

/// The same counter, not freezable: its snapshot is written on the run loop.
struct OnTheLoop: StateMachine, TotalCounting {
    var counter: SlowSnapshotCounter
    var total: UInt64 { counter.total }

    mutating func apply(_ commands: [CommittedCommand]) throws -> [UInt64] {
        try counter.apply(commands)
    }

    func writeSnapshot(to sink: inout some SnapshotSink) async throws {
        try await counter.writeSnapshot(to: &sink)
    }

    mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws {
        try await counter.restore(from: snapshot)
    }
}
