import Testing
@testable import RaftCore

/// Leadership transfer.
@Suite("Leadership transfer")
struct LeadershipTransferTests {
    @Test("Transfer: the leader hands over to an up-to-date voter, which wins at once")
    func transferToUpToDate() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(preVote: true, checkQuorum: true))
        cluster.elect(1)
        let term = cluster[1].term
        try cluster.replicas[1]!.transferLeadership(to: 2)
        cluster.deliverAll()
        #expect(cluster.leaders == [2])
        #expect(cluster[2].term == term + 1, "the target skips pre-vote and the followers' lease")
        #expect(cluster[1].role == .follower && cluster[1].leader == 2)
    }

    @Test("Transfer: the leader first brings a lagging target up to date")
    func transferToLaggingTarget() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(3)
        for text in ["a", "b"] { try cluster.propose(1, text) }
        cluster.heal()
        try cluster.replicas[1]!.transferLeadership(to: 3)
        let first = cluster.takeMessages()
        #expect(!first.contains { $0.kind == .timeoutNow }, "no timeout-now before the target catches up")
        for message in first { cluster.deliver(message) }
        cluster.deliverAll()
        #expect(cluster.leaders == [3])
        #expect(cluster.appliedData(3) == ["a", "b"])
    }

    @Test("Transfer: the leader refuses proposals while a transfer is under way")
    func proposalsRefusedDuringTransfer() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(2)
        try cluster.replicas[1]!.transferLeadership(to: 2)
        #expect(throws: RaftError.transferInProgress) { try cluster.replicas[1]!.propose([1]) }
        #expect(throws: RaftError.transferInProgress) { try cluster.replicas[1]!.proposeConfChange(ConfChange([.addLearner(9)])) }
    }

    @Test("Transfer: a transfer that cannot complete times out and the leader resumes")
    func transferTimesOut() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(2)
        try cluster.replicas[1]!.transferLeadership(to: 2)
        // The timeout-now message is lost.
        _ = cluster.takeMessages()
        cluster.tick(1, times: 9)
        #expect(cluster[1].status.transferTarget == 2)
        cluster.tick(1, times: 1)
        #expect(cluster[1].status.transferTarget == nil)
        cluster.heal()
        try cluster.propose(1, "resumed")
        #expect(cluster.appliedData(3) == ["resumed"])
        #expect(cluster.leaders == [1])
    }

    @Test("Transfer: only to a voter of the configuration")
    func transferTargetMustBeVoter() {
        var cluster = TestCluster(voters: [1, 2, 3], learners: [4], options: plainOptions())
        cluster.elect(1)
        #expect(throws: RaftError.unknownNode(4)) { try cluster.replicas[1]!.transferLeadership(to: 4) }
        #expect(throws: RaftError.unknownNode(9)) { try cluster.replicas[1]!.transferLeadership(to: 9) }
        #expect(throws: RaftError.notLeader(leader: 1)) { try cluster.replicas[2]!.transferLeadership(to: 3) }
    }
}
