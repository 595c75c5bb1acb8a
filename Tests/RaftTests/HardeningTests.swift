import Raft
import RaftCore
import RaftSimulation
import Testing
import WAL

/// Input no valid peer or operator produces: a node refuses it with a typed answer and keeps
/// running, and a bootstrap mistake is refused before anything reaches the disk.
@Suite struct HardeningTests {
    /// A three-node cluster with a small snapshot chunk limit, its leader, and a follower.
    private func cluster() async throws -> (cluster: ScenarioCluster, leader: NodeID, follower: NodeID) {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 41) { configuration in
            configuration.snapshots.maxChunkSize = 4096
            configuration.snapshotChunkSize = 4096
        }
        let leader = try #require(await cluster.electLeader())
        // A put makes every follower hear the leader of this term.
        _ = await cluster.put("a", "1", on: leader)
        let follower = try #require([NodeID(1), 2, 3].first { $0 != leader })
        return (cluster, leader, follower)
    }

    private func chunk(
        from sender: NodeID, to follower: NodeID, term: UInt64, index: UInt64 = 50, offset: Int64 = 0,
        bytes: [UInt8] = Array(repeating: 7, count: 64), fileSize: Int64 = 1000
    ) -> Envelope {
        let install = Message(
            kind: .snapshot, from: sender, to: follower, term: term,
            snapshot: SnapshotMetadata(index: index, term: term, configuration: Configuration(voters: [1, 2, 3])))
        return .snapshotChunk(
            SnapshotChunkMessage(message: install, fileSize: fileSize, chunk: SnapshotChunk(offset: offset, bytes: bytes)))
    }

    /// Hands `envelope` to `follower` and returns the acknowledgements it sent, leaving
    /// everything else in flight.
    private func deliver(_ envelope: Envelope, to follower: NodeID, in cluster: ScenarioCluster) async throws
        -> [SnapshotAck]
    {
        let engine = try #require(cluster.engine(follower))
        let before = cluster.queue.envelopes.count
        await engine.receive(envelope)
        return cluster.queue.envelopes[before...].compactMap { sent in
            if case .snapshotAck(let ack) = sent { return ack }
            return nil
        }
    }

    /// After the bad input, the follower still runs and the cluster still commits through it.
    private func expectStillServing(_ setup: (cluster: ScenarioCluster, leader: NodeID, follower: NodeID)) async throws {
        let engine = try #require(setup.cluster.engine(setup.follower))
        #expect(engine.failure == nil, "the follower stopped: \(String(describing: engine.failure))")
        await setup.cluster.deliverAll()
        let result = await setup.cluster.put("b", "2", on: setup.leader)
        #expect(throws: Never.self) { try result?.get() }
        #expect(engine.failure == nil)
    }

    // MARK: Finding 1: a snapshot chunk from a peer never stops a node

    @Test func aChunkLargerThanTheFollowersLimitIsRefusedNotFatal() async throws {
        let setup = try await cluster()
        let term = try #require(setup.cluster.engine(setup.leader)?.term)
        let acks = try await deliver(
            chunk(from: setup.leader, to: setup.follower, term: term, bytes: Array(repeating: 1, count: 4097), fileSize: 8000),
            to: setup.follower, in: setup.cluster)
        #expect(acks.count == 1 && acks.allSatisfy(\.rejected))
        try await expectStillServing(setup)
    }

    @Test func aNegativeOffsetAfterAValidFirstChunkIsRefusedNotFatal() async throws {
        let setup = try await cluster()
        let term = try #require(setup.cluster.engine(setup.leader)?.term)
        let first = try await deliver(
            chunk(from: setup.leader, to: setup.follower, term: term), to: setup.follower, in: setup.cluster)
        #expect(first.map(\.nextOffset) == [64] && first.allSatisfy { !$0.rejected })
        let acks = try await deliver(
            chunk(from: setup.leader, to: setup.follower, term: term, offset: -8), to: setup.follower, in: setup.cluster)
        #expect(acks.count == 1 && acks.allSatisfy(\.rejected))
        try await expectStillServing(setup)
    }

    @Test func aSnapshotIndexBeyondTheLogsRangeIsRefusedNotFatal() async throws {
        let setup = try await cluster()
        let term = try #require(setup.cluster.engine(setup.leader)?.term)
        for index in [UInt64.max, UInt64.max - 1, WriteAheadLog<SimulatedFileSystem>.largestIndex + 1] {
            let acks = try await deliver(
                chunk(from: setup.leader, to: setup.follower, term: term, index: index), to: setup.follower,
                in: setup.cluster)
            #expect(acks.count == 1 && acks.allSatisfy(\.rejected), "index \(index)")
        }
        try await expectStillServing(setup)
    }

    @Test func aChunkOutsideTheFileItDescribesIsRefused() async throws {
        let setup = try await cluster()
        let term = try #require(setup.cluster.engine(setup.leader)?.term)
        let cases = [
            chunk(from: setup.leader, to: setup.follower, term: term, offset: Int64.max - 10),
            chunk(from: setup.leader, to: setup.follower, term: term, fileSize: 0),
            chunk(from: setup.leader, to: setup.follower, term: term, fileSize: -5),
            chunk(from: setup.leader, to: setup.follower, term: term, fileSize: 10),
        ]
        for envelope in cases {
            let acks = try await deliver(envelope, to: setup.follower, in: setup.cluster)
            #expect(acks.count == 1 && acks.allSatisfy(\.rejected))
        }
        try await expectStillServing(setup)
    }

    @Test func aChunkFromANodeThatIsNotTheCurrentLeaderIsDropped() async throws {
        let setup = try await cluster()
        let term = try #require(setup.cluster.engine(setup.leader)?.term)
        let other = try #require([NodeID(1), 2, 3].first { $0 != setup.leader && $0 != setup.follower })
        for sender in [NodeID(99), other] {
            for index in [UInt64(50), .max] {
                let acks = try await deliver(
                    chunk(from: sender, to: setup.follower, term: term, index: index), to: setup.follower,
                    in: setup.cluster)
                #expect(acks.isEmpty, "a chunk from \(sender) was answered as if from the leader")
            }
        }
        try await expectStillServing(setup)
    }
}
