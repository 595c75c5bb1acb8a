import RaftCore
import RaftSimulation
import Testing
import WAL

@testable import Raft

/// Clause 6 of the persistence contract, at the one step between a received snapshot
/// becoming durable and the log recording it.
@Suite struct ReceivedSnapshotRecoveryTests {
    /// A power cut after the received snapshot file is installed (`receiver.finish()`) and
    /// before `recordReceivedSnapshot` leaves the old leader's entries after the snapshot.
    /// They were never checked against the snapshot's history, so recovery drops them.
    @Test func entriesOfAnOldLeaderAfterAReceivedSnapshotAreDroppedOnRecovery() async throws {
        let cluster = try await ScenarioCluster(voters: [1], seed: 21) { $0.snapshotEntryThreshold = 1_000_000 }
        _ = await cluster.electLeader()
        for number in 0..<8 {
            _ = await cluster.put("old\(number)", "old", on: 1)
        }
        let engine = try #require(cluster.engine(1))
        let oldTerm = try #require(engine.storedTerm(at: 5))
        #expect(engine.lastIndex >= 9, "the old leader's log runs past the snapshot to come")
        await engine.close()
        cluster.crash(1)

        // What the receiver leaves on disk: a durable snapshot at index 5 of a later term,
        // not yet recorded in the log.
        let fileSystem = cluster.member(1).fileSystem
        let store = try SnapshotStore(
            directory: "/node/snapshots", fileSystem: fileSystem, logFirstIndex: 2,
            options: RaftNodeConfiguration.simulated(id: 1, bootstrap: .joinExisting, randomSeed: 1).snapshots)
        var received = KVStateMachine()
        _ = try received.apply([CommittedCommand(index: 5, term: oldTerm + 3, data: KVCommand.put(key: "new", value: [1]).encoded())])
        let machine = received
        _ = try await store.write(
            lastIndex: 5, term: oldTerm + 3, metadata: ConfigurationCodec.encode(Configuration(voters: [1]))
        ) { writer in
            var sink = writer
            try await machine.writeSnapshot(to: &sink)
        }

        try await cluster.start(1)
        let recovered = try #require(cluster.engine(1))
        #expect(recovered.snapshotIndex == 5)
        #expect(recovered.lastIndex == 5, "entries of the old leader after the snapshot survived recovery")
        #expect(recovered.storedTerm(at: 6) == nil)
        #expect(recovered.stateMachine.store["new"] == [1] && recovered.stateMachine.store["old7"] == nil)
    }

    /// The rule keeps a log that agrees with the snapshot: a snapshot taken locally (the log
    /// holds its last entry with the same term) keeps every entry after it.
    @Test func entriesThatContinueTheSnapshotAreKept() async throws {
        let cluster = try await ScenarioCluster(voters: [1], seed: 22) { $0.snapshotEntryThreshold = 1_000_000 }
        _ = await cluster.electLeader()
        for number in 0..<8 { _ = await cluster.put("k\(number)", "v", on: 1) }
        let engine = try #require(cluster.engine(1))
        let last = engine.lastIndex
        cluster.member(1).fileSystem.cutPower(afterOperations: 2)
        _ = try? await engine.snapshotNow()
        cluster.crash(1)
        try await cluster.start(1)
        let recovered = try #require(cluster.engine(1))
        #expect(recovered.lastIndex == last, "a crash mid-snapshot lost entries that continue it")
    }
}
