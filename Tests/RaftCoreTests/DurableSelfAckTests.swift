import Testing
@testable import RaftCore

/// Persistence contract, clause 2: a leader sends its entries before its own write is durable,
/// but counts itself toward the commit quorum only once that write is. Every case here has one
/// follower acknowledging and the other cut off, so the leader's own copy is the deciding vote:
/// counting it early commits an entry that one crash of the leader could erase from the only
/// quorum that holds it (issue 14: until now only a randomized test caught this).
@Suite("A leader counts its own entries only once durable")
struct DurableSelfAckTests {
    /// Voters {1, 2, 3}, leader 1 with "a" committed, node 3 cut off, storage completing writes
    /// only when told.
    static func clusterWithOneFollower() throws -> TestCluster {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.isolate(3)
        cluster.asynchronousStorage = true
        return cluster
    }

    /// Delivers every message and completes every write except those of `held`, until quiet.
    static func settle(_ cluster: inout TestCluster, holding held: NodeID) {
        for _ in 0..<1_000 {
            cluster.processAll()
            let waiting = cluster.ids.filter { $0 != held && cluster.pendingWrites[$0]?.isEmpty == false }
            guard !cluster.network.isEmpty || !waiting.isEmpty else { return }
            for id in waiting { cluster.completeWrite(id) }
            if !cluster.network.isEmpty { cluster.deliver(cluster.network.removeFirst()) }
        }
    }

    @Test("A proposal acknowledged by one of two followers does not commit while the leader's write is in flight")
    func proposalWaitsForTheLeadersWrite() throws {
        var cluster = try Self.clusterWithOneFollower()
        let commit = cluster[1].commitIndex
        try cluster.replicas[1]!.propose(Array("b".utf8))
        Self.settle(&cluster, holding: 1)
        let index = cluster[1].lastIndex
        #expect(cluster[1].status.progress[2]?.match == index, "follower 2 acknowledged the entry")
        #expect(cluster[1].commitIndex == commit, "follower 2 plus an unwritten leader copy is 1 durable copy of 3")
        cluster.completeWrite(1)
        #expect(cluster[1].commitIndex == index)
        Self.settle(&cluster, holding: 0)
        #expect(cluster.appliedData(2) == ["a", "b"])
    }

    @Test("With two writes in flight, the first one's completion counts the leader for its own entries only")
    func pipelinedWritesCountOneAtATime() throws {
        var cluster = try Self.clusterWithOneFollower()
        try cluster.replicas[1]!.propose(Array("b".utf8))
        cluster.process(1)
        let first = cluster[1].lastIndex
        try cluster.replicas[1]!.propose(Array("c".utf8))
        cluster.process(1)
        let second = cluster[1].lastIndex
        #expect(cluster.pendingWrites[1]?.count == 2, "two Readys of the leader are in flight")
        Self.settle(&cluster, holding: 1)
        #expect(cluster[1].status.progress[2]?.match == second, "follower 2 acknowledged both entries")
        cluster.completeWrite(1)
        #expect(cluster[1].commitIndex == first, "the second write is not durable: its entry must wait")
        cluster.completeWrite(1)
        #expect(cluster[1].commitIndex == second)
    }

    @Test("A new leader's no-op commits only once the leader's own write of it is durable")
    func newLeadersNoOpWaitsForItsWrite() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.isolate(3)
        cluster.asynchronousStorage = true
        try cluster.replicas[1]!.campaign()
        cluster.process(1)
        cluster.completeWrite(1)
        // Its term and vote are durable; the no-op it appends on winning is not.
        Self.settle(&cluster, holding: 1)
        try #require(cluster[1].role == .leader)
        let noOp = cluster[1].lastIndex
        #expect(cluster[1].status.progress[2]?.match == noOp, "follower 2 acknowledged the no-op")
        #expect(cluster[1].commitIndex < noOp)
        while cluster.pendingWrites[1]?.isEmpty == false { cluster.completeWrite(1) }
        #expect(cluster[1].commitIndex == noOp)
    }
}
