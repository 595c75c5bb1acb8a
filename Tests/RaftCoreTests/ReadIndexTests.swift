import Testing
@testable import RaftCore

/// Linearizable reads (ReadIndex), with LESSONS.md Raft items 10 and 11.
@Suite("ReadIndex and LESSONS Raft 10–11")
struct ReadIndexTests {
    /// Elects `id` delivering only election traffic, so its no-op is
    /// appended but not replicated.
    static func electWithoutReplication(_ cluster: inout TestCluster, _ id: NodeID) {
        try? cluster.replicas[id]!.campaign()
        var rounds = 0
        while rounds < 10 {
            rounds += 1
            let messages = cluster.takeMessages()
            let election = messages.filter { [.vote, .voteResponse, .preVote, .preVoteResponse].contains($0.kind) }
            if election.isEmpty { break }
            for message in election { cluster.deliver(message) }
        }
        cluster.network = []
    }

    @Test("Lesson 10 (etcd #7331): a new leader serves no read before it commits an entry of its term")
    func readWaitsForNewLeadersFirstCommit() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "old")
        let oldCommit = cluster[1].commitIndex
        cluster.isolate(1)
        // Node 2 wins, but its no-op has not reached anyone yet.
        Self.electWithoutReplication(&cluster, 2)
        #expect(cluster[2].role == .leader)
        // Pretend node 2 did not know the old commit index (it learns it only
        // by committing in its own term).
        try cluster.replicas[2]!.readIndex(context: Array("r".utf8))
        cluster.process(2)
        #expect(cluster.readStates[2]!.isEmpty)
        #expect(!cluster.network.contains { $0.kind == .heartbeat && $0.context != 0 }, "no read round before the no-op commits")
        cluster.network = []
        cluster.tickAll(times: 2)
        let state = try #require(cluster.readStates[2]!.first)
        #expect(state.context == Array("r".utf8))
        #expect(state.index >= oldCommit + 1, "the read index covers the old commit and the new no-op")
        #expect(cluster[2].log.term(at: state.index) == cluster[2].term)
    }

    @Test("Lesson 10 (etcd #20418): a late heartbeat reply cannot confirm a newer read, even with the same context")
    func lateHeartbeatReplyCannotConfirmNewerRead() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        let context = Array("same".utf8)
        try cluster.replicas[1]!.readIndex(context: context)
        let firstRound = cluster.takeMessages().filter { $0.kind == .heartbeat }
        for heartbeat in firstRound {
            cluster.replicas[heartbeat.to]!.step(heartbeat)
        }
        let lateReplies = [2, 3].flatMap { cluster.replicas[NodeID($0)]!.drainMessages() }.filter { $0.kind == .heartbeatResponse }
        #expect(lateReplies.count == 2)
        // A write commits, then a second read with the same context.
        try cluster.propose(1, "w")
        let newerCommit = cluster[1].commitIndex
        try cluster.replicas[1]!.readIndex(context: context)
        let secondRound = cluster.takeMessages().filter { $0.kind == .heartbeat }
        #expect(!secondRound.isEmpty)
        // The first round's replies arrive late.
        for reply in lateReplies { cluster.deliver(reply) }
        let confirmed = cluster.readStates[1]!
        #expect(confirmed.count == 1, "only the first read may be confirmed by the first round")
        #expect(confirmed.first.map { $0.index < newerCommit } == true)
        // The second round's replies confirm the second read at the newer index.
        for heartbeat in secondRound { cluster.deliver(heartbeat) }
        cluster.deliverAll()
        #expect(cluster.readStates[1]!.count == 2)
        #expect(cluster.readStates[1]!.last?.index == newerCommit)
    }

    @Test("Lesson 10 (etcd-io/raft #105): a single node restarted with a stale commit index reads at a current index")
    func singleNodeReadAfterRestart() throws {
        var cluster = TestCluster(voters: [1], options: plainOptions())
        cluster.elect(1)
        for text in ["a", "b", "c"] { try cluster.propose(1, text) }
        let commit = cluster[1].commitIndex
        // The crash lost the last commit-index update.
        cluster.replicas[1]!.updateStorage { $0.hardState.commit = 1 }
        cluster.restart(1)
        try cluster.replicas[1]!.campaign()
        // The vote is durable: it leads, with its no-op not yet durable.
        cluster.replicas[1]!.persistAndAdvance()
        #expect(cluster[1].role == .leader)
        try cluster.replicas[1]!.readIndex(context: [7])
        #expect(cluster[1].readStates.isEmpty, "not before the no-op commits")
        cluster.deliverAll()
        let state = try #require(cluster.readStates[1]!.first)
        #expect(state.index >= commit + 1, "the read index must cover every acknowledged write and the new no-op")
    }

    @Test("Lesson 11 (Jepsen, Consul 2014): no lease reads: a read waits for a heartbeat round even right after one")
    func noLeaseShortcut() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.tickAll()
        try cluster.replicas[1]!.readIndex(context: [1])
        cluster.process(1)
        #expect(cluster.readStates[1]!.isEmpty, "a fresh quorum contact must not serve the read without a new round")
        cluster.deliverAll()
        #expect(cluster.readStates[1]!.count == 1)
    }

    @Test("ReadIndex: a stale leader in a minority partition never completes a read")
    func staleLeaderReadNeverCompletes() throws {
        var cluster = TestCluster(voters: [1, 2, 3, 4, 5], options: plainOptions())
        cluster.elect(1)
        cluster.partition([[1, 2], [3, 4, 5]])
        cluster.elect(3)
        try cluster.propose(3, "new")
        #expect(cluster[1].role == .leader, "without check-quorum the old leader does not know it was deposed")
        try cluster.replicas[1]!.readIndex(context: [9])
        cluster.tickAll(times: 30)
        #expect(cluster.readStates[1]!.isEmpty)
    }

    @Test("ReadIndex: a follower forwards the read to the leader and gets the leader's commit index")
    func followerForwardsRead() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        try cluster.replicas[2]!.readIndex(context: [4, 2])
        cluster.deliverAll()
        let state = try #require(cluster.readStates[2]!.first)
        #expect(state == ReadState(index: cluster[1].commitIndex, context: [4, 2]))
        #expect(cluster.readStates[1]!.isEmpty)
    }

    @Test("ReadIndex: without a known leader a read is refused")
    func readWithoutLeader() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        #expect(throws: RaftError.notLeader(leader: nil)) { try replica.readIndex(context: []) }
        try? replica.campaign()
        #expect(throws: RaftError.notLeader(leader: nil)) { try replica.readIndex(context: []) }
    }
}
