import Testing
@testable import RaftCore

/// Liveness hazards of configurations taking effect on apply, each found by
/// the randomized membership test and fixed in the core.
@Suite("Configuration liveness (on-apply hazards)")
struct ConfigurationLivenessTests {
    @Test("On-apply hazard: a voter that restarted with an old commit index learns it from a vote refusal and wins under the new configuration")
    func voterLearnsCommitFromVoteRefusal() {
        // Index 2 demotes node 3 to learner: {1,3} becomes {1}. Node 1 lost
        // its commit index (1); node 3 knows index 2 is committed and holds
        // two uncommitted entries more.
        let change = Entry(term: 1, index: 2, kind: .configChange, data: ConfChange([.addLearner(3)]).encoded())
        var storage1 = makeStorage(voters: [1, 3], terms: [1])
        storage1.append([change])
        storage1.hardState = HardState(term: 1, vote: nil, commit: 1)
        var storage3 = storage1
        storage3.append(entries(term: 1, from: 3, count: 2))
        storage3.hardState = HardState(term: 1, vote: nil, commit: 2)
        let options = plainOptions()
        var cluster = TestCluster(replicas: [
            Replica(id: 1, storage: storage1, hardState: storage1.hardState, options: options, randomSeed: 1),
            Replica(id: 3, storage: storage3, hardState: storage3.hardState, options: options, randomSeed: 3),
        ], options: options)
        cluster.processAll()
        #expect(cluster[3].configuration == Configuration(voters: [1], learners: [3]))
        #expect(cluster[1].configuration == Configuration(voters: [1, 3]), "node 1 still applies the old configuration")
        cluster.tickAll(times: 60)
        #expect(cluster.leaders == [1])
        #expect(cluster[1].configuration == Configuration(voters: [1], learners: [3]))
        #expect(cluster[3].lastIndex == cluster[1].lastIndex, "the learner's uncommitted tail is replaced")
    }

    @Test("On-apply hazard: a removed leader keeps leading, taking no proposals, until the new configuration durably knows the change")
    func removedLeaderWaitsForNewQuorum() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.remove(1)]))
        let changeIndex = cluster[1].lastIndex
        var ledAfterApplying = false
        var steps = 0
        while cluster[1].role == .leader && steps < 1_000 {
            steps += 1
            cluster.processAll()
            guard !cluster.network.isEmpty else { break }
            cluster.deliver(cluster.network.removeFirst())
            if cluster[1].role == .leader && cluster[1].configuration.voters == [2, 3] {
                ledAfterApplying = true
                #expect(throws: RaftError.notVoter) { try cluster.replicas[1]!.propose([1]) }
            }
        }
        // When it stepped down, both remaining voters (a quorum of {2,3})
        // had durably recorded the change as committed.
        for id in [2, 3] as [NodeID] {
            #expect(cluster[id].storage.hardState.commit >= changeIndex)
        }
        cluster.deliverAll()
        #expect(ledAfterApplying)
        #expect(cluster[1].role == .follower)
        for id in [2, 3] as [NodeID] {
            #expect(cluster[id].configuration == Configuration(voters: [2, 3]))
        }
    }

    @Test("Persistence: a leader tells followers only a commit index it has persisted")
    func advertisedCommitIsDurable() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.replicas[1]!.propose(Array("x".utf8))
        var leader = cluster[1]
        let first = leader.persistAndAdvance()
        let index = first.entries[0].index
        leader.step(message(.appendResponse, from: 2, to: 1, term: leader.term, index: index))
        #expect(leader.commitIndex == index)
        let second = leader.ready()
        #expect(second.hardState?.commit == index)
        let told = (second.messages + second.messagesAfterPersist).filter { $0.kind == .append || $0.kind == .heartbeat }
        #expect(told.allSatisfy { $0.commit < index }, "the commit index is not durable yet")
        leader.updateStorage { $0.hardState = second.hardState ?? $0.hardState }
        leader.advance(second)
        let third = leader.ready()
        #expect(third.messages.contains { $0.kind == .append && $0.commit == index && $0.to == 2 })
    }
}
