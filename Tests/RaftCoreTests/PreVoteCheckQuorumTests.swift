import Testing
@testable import RaftCore

/// Pre-vote and check-quorum, with LESSONS.md Raft item 13.
@Suite("Pre-vote, check-quorum and LESSONS Raft 13")
struct PreVoteCheckQuorumTests {
    /// Cuts `id` off, lets it time out many times, heals, and returns the
    /// cluster.
    static func rejoinAfterPartition(preVote: Bool) -> TestCluster {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(preVote: preVote))
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tick(3, times: 100)
        cluster.network = []
        cluster.heal()
        cluster.tickAll(times: 5)
        return cluster
    }

    @Test("Lesson 13 (etcd #8499): with pre-vote, a partitioned node rejoining does not depose a healthy leader")
    func rejoiningNodeDoesNotDepose() {
        let withPreVote = Self.rejoinAfterPartition(preVote: true)
        #expect(withPreVote.leaders == [1])
        #expect(withPreVote[1].term == 1)
        #expect(withPreVote[3].term == 1, "pre-votes never raise the term")
        // The hazard is real without pre-vote: the rejoining node's higher
        // term forces an election.
        let without = Self.rejoinAfterPartition(preVote: false)
        #expect(without[1].term > 1)
    }

    @Test("Lesson 13 (etcd #8243): a stalled pre-vote resolves: a higher term held by a node with a stale log spreads through pre-vote rejections")
    func stalledPreVoteResolves() {
        // Node 2 is down. Node 1 has the better log but a lower term; node 3
        // has a higher term but a stale log. Each needs the other's vote.
        let options = plainOptions(preVote: true, checkQuorum: true)
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: [1, 2, 3], terms: [1, 1, 2], term: 3, options: options),
            makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 2], term: 3, options: options),
            makeReplica(3, voters: [1, 2, 3], terms: [1], term: 5, options: options),
        ], options: options)
        cluster.isolate(2)
        cluster.tickAll(times: 100)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].term > 5)
    }

    @Test("Pre-vote: a pre-candidate that cannot win leaves the term and the leader alone")
    func preVoteLossChangesNothing() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(preVote: true))
        cluster.elect(1)
        try? cluster.propose(1, "x")
        // Node 3 misses the entry and then campaigns with a stale log.
        cluster.isolate(3)
        try? cluster.propose(1, "y")
        cluster.heal()
        cluster.network = []
        try? cluster.replicas[3]!.campaign()
        let requests = cluster.takeMessages()
        #expect(requests.allSatisfy { $0.kind == .preVote })
        for request in requests { cluster.deliver(request) }
        cluster.deliverAll()
        #expect(cluster.leaders == [1] && cluster[1].term == 1)
    }

    @Test("Check-quorum: a leader isolated from the quorum steps down within an election timeout")
    func isolatedLeaderStepsDown() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(1, times: 21)
        #expect(cluster[1].role == .follower)
        #expect(throws: RaftError.notLeader(leader: nil)) { try cluster.replicas[1]!.propose([1]) }
    }

    @Test("Check-quorum: a leader that hears from its quorum stays leader")
    func connectedLeaderStays() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        cluster.isolate(3)
        cluster.tickAll(times: 50)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].term == 1)
    }

    @Test("Check-quorum: a follower that hears from its leader ignores vote requests and keeps its term")
    func followersIgnoreVotesInLease() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        cluster.replicas[2]!.step(message(.vote, from: 3, to: 2, term: 9, logTerm: 9, index: 9))
        #expect(cluster[2].term == 1 && cluster[2].vote == 1)
        #expect(cluster.replicas[2]!.drainMessages().isEmpty)
        // Once the lease has run out the request is considered.
        cluster.isolate(1)
        cluster.tick(2, times: 10)
        cluster.replicas[2]!.step(message(.vote, from: 3, to: 2, term: 9, logTerm: 9, index: 9))
        #expect(cluster[2].term == 9 && cluster[2].vote == 3)
    }
}
