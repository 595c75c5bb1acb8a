import Testing
@testable import RaftCore

/// Learners receive the log but never decide anything: with as many learners as it takes to
/// outnumber the cut-off voters, counting a learner would change the outcome (issue 14: no
/// earlier test had enough learners for one to tip a count).
@Suite("Learners never count toward a quorum")
struct LearnerQuorumTests {
    /// Voters {1, 2, 3} and learners {4, 5}, leader 1, with "a" committed everywhere.
    static func clusterWithTwoLearners() throws -> TestCluster {
        var cluster = TestCluster(voters: [1, 2, 3], learners: [4, 5], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        for id in cluster.ids { #expect(cluster.appliedData(id) == ["a"]) }
        return cluster
    }

    @Test("A proposal acknowledged by the leader and two learners, with voters 2 and 3 cut off, does not commit")
    func learnersDoNotCommit() throws {
        var cluster = try Self.clusterWithTwoLearners()
        let commit = cluster[1].commitIndex
        cluster.isolate(2)
        cluster.isolate(3)
        try cluster.propose(1, "b")
        cluster.tickAll(times: 3)
        #expect(cluster[1].status.progress[4]?.match == cluster[1].lastIndex, "learner 4 holds the entry")
        #expect(cluster[1].status.progress[5]?.match == cluster[1].lastIndex, "learner 5 holds the entry")
        #expect(cluster[1].commitIndex == commit, "1 of 3 voters is no quorum, whatever the learners hold")
        #expect(cluster.appliedData(1) == ["a"])
        #expect(cluster.appliedData(4) == ["a"])
        // One voter back makes 2 of 3: now it commits everywhere.
        cluster.heal()
        cluster.isolate(3)
        cluster.tickAll(times: 3)
        #expect(cluster.appliedData(1) == ["a", "b"])
        #expect(cluster.appliedData(5) == ["a", "b"])
    }

    @Test("A read is not confirmed by the learners' heartbeat replies alone")
    func learnersDoNotConfirmReads() throws {
        var cluster = try Self.clusterWithTwoLearners()
        cluster.isolate(2)
        cluster.isolate(3)
        try cluster.replicas[1]!.readIndex(context: Array("read".utf8))
        cluster.deliverAll()
        #expect(cluster.readStates[1]!.isEmpty, "the leader and two learners are not a quorum of voters")
        cluster.heal()
        cluster.tickAll(times: 2)
        #expect(cluster.readStates[1]!.map(\.context) == [Array("read".utf8)])
    }

    @Test("A leader cut off from voters 2 and 3 steps down at the quorum check, though both learners answer")
    func learnersDoNotKeepALeaderInPower() throws {
        var cluster = TestCluster(voters: [1, 2, 3], learners: [4, 5], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        cluster.isolate(2)
        cluster.isolate(3)
        // The learners answer every heartbeat; the cut-off voters campaign unheard.
        cluster.tickAll(times: 3 * cluster.options.electionTicks)
        #expect(cluster[1].role != .leader)
    }
}
