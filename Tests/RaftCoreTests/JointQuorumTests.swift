import Testing
@testable import RaftCore

/// While joint (C_old,new), every decision needs a majority of the old voters *and* of the new
/// ones. `MembershipTests.jointQuorum` only had the new half lagging; these cases have the old
/// half lagging, so a rule that listens to the new voters alone fails them (issue 14).
@Suite("Joint consensus needs both halves")
struct JointQuorumTests {
    static let joint = Configuration(voters: [4, 5, 6], outgoingVoters: [1, 2, 3])

    @Test("The commit index is held back by the outgoing half when it lags")
    func commitWaitsForTheOldHalf() {
        let matches: [NodeID: UInt64] = [1: 9, 2: 2, 3: 1, 4: 9, 5: 9, 6: 9]
        #expect(JointQuorum.committedIndex(Self.joint) { matches[$0] ?? 0 } == 2)
        let oldOnly: [NodeID: UInt64] = [1: 7, 2: 7, 3: 7, 4: 3, 5: 0, 6: 0]
        #expect(JointQuorum.committedIndex(Self.joint) { oldOnly[$0] ?? 0 } == 0)
    }

    @Test("An election is won only with a majority of the outgoing half too, and lost when that half refuses")
    func electionNeedsTheOldHalf() {
        let newHalfOnly: [NodeID: Bool] = [4: true, 5: true, 6: true, 1: true]
        #expect(JointQuorum.voteResult(Self.joint, votes: newHalfOnly) == .pending)
        let oldHalfRefuses: [NodeID: Bool] = [4: true, 5: true, 6: true, 1: true, 2: false, 3: false]
        #expect(JointQuorum.voteResult(Self.joint, votes: oldHalfRefuses) == .lost)
        let both: [NodeID: Bool] = [4: true, 5: true, 1: true, 2: true]
        #expect(JointQuorum.voteResult(Self.joint, votes: both) == .won)
    }

    @Test("In C_old,new = {1,2,3},{1,4,5} with old voters 2 and 3 cut off, nothing commits and the leader stays joint")
    func jointClusterWaitsForTheOldVoters() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.addNode(4, configuration: cluster[1].configuration)
        cluster.addNode(5, configuration: cluster[1].configuration)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(4), .addVoter(5), .remove(2), .remove(3)]))
        cluster.process(1)
        // Deliver one message at a time until the leader applies the joint configuration (the
        // leave-joint entry it then appends is on its way), and cut the old voters off there.
        var steps = 0
        while !cluster[1].configuration.isJoint, !cluster.network.isEmpty, steps < 10_000 {
            steps += 1
            cluster.deliver(cluster.network.removeFirst())
        }
        let joint = Configuration(voters: [1, 4, 5], outgoingVoters: [1, 2, 3])
        try #require(cluster[1].configuration == joint)
        cluster.isolate(2)
        cluster.isolate(3)
        let commit = cluster[1].commitIndex
        try cluster.propose(1, "b")
        cluster.tickAll(times: 5)
        #expect(cluster[1].status.progress[4]?.match == cluster[1].lastIndex, "new voter 4 holds everything")
        #expect(cluster[1].status.progress[5]?.match == cluster[1].lastIndex, "new voter 5 holds everything")
        #expect(cluster[1].commitIndex == commit, "1 of the old voters {1,2,3} is no majority")
        #expect(cluster[1].configuration == joint, "the leave-joint entry cannot commit either")
        #expect(cluster.appliedData(4) == ["a"])
        // One old voter back gives both majorities: the cluster commits and leaves joint.
        cluster.heal()
        cluster.isolate(3)
        cluster.tickAll(times: 5)
        #expect(cluster.appliedData(1) == ["a", "b"])
        #expect(cluster.appliedData(5) == ["a", "b"])
        #expect(cluster[1].configuration == Configuration(voters: [1, 4, 5]))
    }
}
