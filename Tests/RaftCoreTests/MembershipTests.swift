import Testing
@testable import RaftCore

/// Membership changes (single-step, joint consensus, learners), with
/// LESSONS.md Raft item 12 and the hazards of the "on apply" rule.
@Suite("Membership and LESSONS Raft 12")
struct MembershipTests {
    static func change(_ cluster: inout TestCluster, leader: NodeID, _ operations: [ConfChangeOperation]) throws {
        try cluster.replicas[leader]!.proposeConfChange(ConfChange(operations))
        cluster.deliverAll()
        cluster.tickAll(times: 3)
    }

    @Test("Membership: add one voter in a single step; the new quorum is 3 of 4")
    func addVoter() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.addNode(4, configuration: cluster[1].configuration)
        try Self.change(&cluster, leader: 1, [.addVoter(4)])
        for id in [1, 2, 3, 4] as [NodeID] {
            #expect(cluster[id].configuration == Configuration(voters: [1, 2, 3, 4]))
        }
        #expect(cluster.appliedData(4) == ["a"])
        cluster.isolate(3)
        cluster.isolate(4)
        try cluster.propose(1, "b")
        #expect(!cluster.appliedData(1).contains("b"), "2 of 4 is not a quorum")
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(cluster.appliedData(4) == ["a", "b"])
    }

    @Test("Membership: remove one voter; the remaining two form the quorum")
    func removeVoter() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try Self.change(&cluster, leader: 1, [.remove(3)])
        #expect(cluster[1].configuration == Configuration(voters: [1, 2]))
        #expect(cluster[2].configuration == Configuration(voters: [1, 2]))
        cluster.isolate(3)
        try cluster.propose(1, "x")
        #expect(cluster.appliedData(2) == ["x"])
        #expect(cluster[1].status.progress[3] == nil)
    }

    @Test("Membership: several voters change at once through joint consensus, which the leader then leaves")
    func jointConsensus() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        let start = cluster[1].configuration
        cluster.addNode(4, configuration: start)
        cluster.addNode(5, configuration: start)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(4), .addVoter(5), .remove(2), .remove(3)]))
        cluster.deliverAll()
        cluster.tickAll(times: 3)
        let seen = cluster.readyLog[1]!.flatMap(\.committedEntries).filter { $0.kind == .configChange }
        #expect(seen.count == 2, "the change and the automatic leave-joint entry")
        #expect(seen.last.flatMap { ConfChange(decoding: $0.data) }?.isLeaveJoint == true)
        for id in [1, 4, 5] as [NodeID] {
            #expect(cluster[id].configuration == Configuration(voters: [1, 4, 5]))
        }
        cluster.isolate(2)
        cluster.isolate(3)
        try cluster.propose(1, "new")
        #expect(cluster.appliedData(5) == ["new"])
    }

    @Test("Joint consensus: a decision needs a majority of both the old and the new voters")
    func jointQuorum() {
        let joint = Configuration(voters: [4, 5, 6], outgoingVoters: [1, 2, 3])
        let matches: [NodeID: UInt64] = [1: 9, 2: 9, 3: 9, 4: 9, 5: 2, 6: 1]
        #expect(JointQuorum.committedIndex(joint) { matches[$0] ?? 0 } == 2)
        #expect(JointQuorum.voteResult(joint, votes: [1: true, 2: true, 4: true]) == .pending)
        #expect(JointQuorum.voteResult(joint, votes: [1: true, 2: true, 4: true, 5: true]) == .won)
        #expect(JointQuorum.voteResult(joint, votes: [1: false, 2: false, 4: true, 5: true]) == .lost)
    }

    @Test("Membership: a learner is added, catches up without voting, and is promoted")
    func learnerPromotion() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "a")
        cluster.addNode(4, configuration: cluster[1].configuration)
        try Self.change(&cluster, leader: 1, [.addLearner(4)])
        #expect(cluster[1].configuration == Configuration(voters: [1, 2, 3], learners: [4]))
        try cluster.propose(1, "b")
        #expect(cluster.appliedData(4) == ["a", "b"])
        // A learner never campaigns, however long it waits.
        cluster.isolate(4)
        cluster.tick(4, times: 100)
        #expect(cluster[4].role == .follower && cluster[4].term == cluster[1].term)
        #expect(throws: RaftError.notVoter) { try cluster.replicas[4]!.campaign() }
        cluster.heal()
        try Self.change(&cluster, leader: 1, [.addVoter(4)])
        #expect(cluster[4].configuration == Configuration(voters: [1, 2, 3, 4]))
        #expect(cluster[1].status.progress[4]?.match == cluster[1].lastIndex)
    }

    @Test("Membership: removing the leader: it steps down once the change applies, and the others carry on")
    func removeLeader() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try Self.change(&cluster, leader: 1, [.remove(1)])
        #expect(cluster[1].role == .follower)
        #expect(cluster[2].configuration == Configuration(voters: [2, 3]))
        cluster.tickAll(times: 40)
        let leaders = cluster.leaders
        #expect(leaders.count == 1 && leaders.first != 1)
        if let leader = leaders.first {
            try cluster.propose(leader, "after")
            #expect(cluster.appliedData(2) == ["after"] && cluster.appliedData(3) == ["after"])
        }
    }

    @Test("Lesson 12 (etcd-io/raft confchange_v1_remove_leader): a leader leaving the configuration does not count itself in the new half")
    func removedLeaderDoesNotCountItself() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.addNode(4, configuration: cluster[1].configuration)
        cluster.addNode(5, configuration: cluster[1].configuration)
        // Nodes 4 and 5 are unreachable, so nothing after the joint entry can
        // commit in the new half {2,4,5} without counting the leader.
        cluster.isolate(4)
        cluster.isolate(5)
        // Enter C_old,new = {1,2,3},{2,4,5}; leader 1 is only in the old half.
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(4), .addVoter(5), .remove(1), .remove(3)]))
        cluster.deliverAll()
        #expect(cluster[1].configuration == Configuration(voters: [2, 4, 5], outgoingVoters: [1, 2, 3]))
        let commit = cluster[1].commitIndex
        #expect(cluster[1].lastIndex == commit + 1, "the leave-joint entry waits")
        cluster.tickAll(times: 3)
        // 1, 2 and 3 hold everything: a majority of the old half, and if the
        // leader counted itself in the new half it would be 2 of 3 there too.
        #expect(cluster[1].commitIndex == commit)
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(cluster[2].configuration == Configuration(voters: [2, 4, 5]))
        #expect(cluster[1].role == .follower)
    }

    @Test("Lesson 12 (Ongaro 2015): no membership change before the leader commits an entry of its term")
    func noChangeBeforeTermCommit() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        try cluster.replicas[1]!.campaign()
        for _ in 0..<4 {
            let election = cluster.takeMessages().filter { [.vote, .voteResponse].contains($0.kind) }
            for message in election { cluster.deliver(message) }
        }
        cluster.network = []
        #expect(cluster[1].role == .leader)
        #expect(throws: RaftError.leaderNotReady) { try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(4)])) }
        cluster.tickAll(times: 2)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(4)]))
    }

    @Test("Membership: at most one change is pending at a time")
    func onePendingChange() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addLearner(4)]))
        #expect(throws: RaftError.confChangePending) { try cluster.replicas[1]!.proposeConfChange(ConfChange([.addLearner(5)])) }
        cluster.deliverAll()
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addLearner(5)]))
    }

    @Test("Lesson 12: a learner's vote is never counted")
    func learnerVoteNotCounted() {
        var candidate = makeReplica(1, voters: [1, 2, 3], learners: [4], term: 1)
        try? candidate.campaign()
        candidate.persistAndAdvance()
        #expect(!candidate.drainMessages().contains { $0.to == 4 }, "learners are not asked")
        candidate.step(message(.voteResponse, from: 4, to: 1, term: 2))
        #expect(candidate.role == .candidate, "own vote plus a learner's is not a majority of 3")
        candidate.step(message(.voteResponse, from: 2, to: 1, term: 2))
        #expect(candidate.role == .leader)
    }

    @Test("Lesson 12 (hashicorp/raft #524, #526): a removed node that keeps campaigning with a higher term does not disrupt the cluster")
    func removedNodeDoesNotDisrupt() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        cluster.isolate(3)
        try Self.change(&cluster, leader: 1, [.remove(3)])
        #expect(cluster[1].configuration == Configuration(voters: [1, 2]))
        // Node 3 never learned it was removed; it campaigns again and again.
        cluster.tick(3, times: 60)
        #expect(cluster[3].term > cluster[1].term)
        let term = cluster[1].term
        cluster.heal()
        cluster.tickAll(times: 60)
        #expect(cluster.leaders.contains(1))
        #expect(cluster[1].term == term)
        #expect(cluster[2].term == term)
    }

    @Test("Membership: the configuration travels in snapshot metadata to a follower behind the compaction point")
    func configurationInSnapshot() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try Self.change(&cluster, leader: 1, [.addLearner(4)])
        cluster.compact(1)
        #expect(cluster[1].storage.snapshot.configuration == Configuration(voters: [1, 2, 3], learners: [4]))
        cluster.addNode(4, configuration: Configuration(voters: [1, 2, 3]))
        cluster.tickAll(times: 3)
        #expect(cluster[4].storage.snapshot.index == cluster[1].storage.snapshot.index)
        #expect(cluster[4].configuration == Configuration(voters: [1, 2, 3], learners: [4]))
    }

    @Test("On-apply rule: an appended but uncommitted change does not alter the leader's configuration")
    func changeTakesEffectOnApply() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(1)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.remove(2), .remove(3), .addVoter(4), .addVoter(5)]))
        cluster.deliverAll()
        #expect(cluster[1].configuration == Configuration(voters: [1, 2, 3]))
        #expect(!cluster[1].configuration.isJoint)
    }

    @Test("On-apply hazard: a restarted node does not campaign while a committed change is unapplied")
    func noCampaignWithUnappliedChange() throws {
        var storage = makeStorage(voters: [1, 2, 3], terms: [1])
        storage.append([Entry(term: 1, index: 2, kind: .configChange, data: ConfChange([.remove(1)]).encoded())])
        storage.hardState = HardState(term: 1, vote: nil, commit: 2)
        var replica = Replica(id: 1, storage: storage, hardState: storage.hardState, applied: 0, options: plainOptions(), randomSeed: 3)
        // Its snapshot still says it is a voter, but the log removes it.
        try replica.campaign()
        #expect(replica.role == .follower)
        let ready = replica.persistAndAdvance()
        #expect(ready.committedEntries.count == 2)
        #expect(replica.configuration == Configuration(voters: [2, 3]))
        #expect(throws: RaftError.notVoter) { try replica.campaign() }
    }

    @Test("Membership: invalid changes are refused")
    func invalidChanges() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        #expect(throws: RaftError.invalidConfChange(.noVoters)) {
            try cluster.replicas[1]!.proposeConfChange(ConfChange([.remove(1), .remove(2), .remove(3)]))
        }
        #expect(throws: RaftError.invalidConfChange(.notJoint)) { try cluster.replicas[1]!.proposeConfChange(.leaveJoint) }
        #expect(throws: RaftError.invalidConfChange(.demotionInJointChange(2))) {
            try cluster.replicas[1]!.proposeConfChange(ConfChange([.addLearner(2), .addVoter(4), .addVoter(5)]))
        }
        #expect(throws: RaftError.notLeader(leader: 1)) { try cluster.replicas[2]!.proposeConfChange(ConfChange([.addVoter(4)])) }
    }
}
