import Testing
@testable import RaftCore

/// Raft items 1–4 of LESSONS.md: votes and the persistence contract.
@Suite("LESSONS Raft 1–4: votes and persistence")
struct LessonsVotingTests {
    @Test("Lesson 1 (CCF #8094): a candidate that steps down within its term keeps its vote")
    func voteSurvivesStepDownWithinTerm() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 4)
        try? replica.campaign()
        replica.persistAndAdvance()
        #expect(replica.role == .candidate && replica.term == 5 && replica.vote == 1)
        replica.step(message(.heartbeat, from: 2, to: 1, term: 5))
        #expect(replica.role == .follower && replica.vote == 1)
        replica.step(message(.vote, from: 3, to: 1, term: 5))
        #expect(replica.drainMessages().first { $0.kind == .voteResponse }?.reject == true)
        #expect(replica.vote == 1)
    }

    @Test("Lesson 1 (CCF #8094): a leader deposed by check-quorum keeps its vote for the term")
    func voteSurvivesCheckQuorumStepDown() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(1)
        cluster.tick(1, times: 20)
        #expect(cluster[1].role == .follower && cluster[1].term == term)
        #expect(cluster[1].vote == 1)
        cluster.replicas[1]!.step(message(.vote, from: 3, to: 1, term: term, logTerm: 9, index: 9))
        #expect(cluster.replicas[1]!.drainMessages().first { $0.kind == .voteResponse }?.reject == true)
    }

    @Test("Lesson 1 (akka-raft #56): a candidate remembers it voted for itself and refuses a rival of the same term")
    func candidateRemembersOwnVote() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        try? replica.campaign()
        replica.persistAndAdvance()
        replica.step(message(.vote, from: 2, to: 1, term: 2, logTerm: 5, index: 5))
        #expect(replica.drainMessages().first { $0.kind == .voteResponse }?.reject == true)
        #expect(replica.vote == 1 && replica.role == .candidate)
    }

    @Test("Lesson 1 (canonical/raft #196): pre-vote neither resets the vote nor raises the term")
    func preVoteKeepsVote() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 5, options: plainOptions(preVote: true))
        replica.step(message(.vote, from: 2, to: 1, term: 6))
        replica.persistAndAdvance()
        #expect(replica.vote == 2 && replica.term == 6)
        // Time out: becomes a pre-candidate, which must not touch term or vote.
        var ticks = 0
        while replica.role != .preCandidate && ticks < 50 { replica.tick(); ticks += 1 }
        #expect(replica.role == .preCandidate)
        #expect(replica.term == 6 && replica.vote == 2)
        // Answering someone else's pre-vote must not either.
        replica.step(message(.preVote, from: 3, to: 1, term: 7))
        #expect(replica.term == 6 && replica.vote == 2)
        // A real vote request from a rival in term 6 is still refused.
        replica.step(message(.vote, from: 3, to: 1, term: 6))
        let replies = replica.drainMessages().filter { $0.kind == .voteResponse }
        #expect(replies.count == 1 && replies.first?.reject == true)
    }

    @Test("Lesson 1: the vote survives a restart")
    func voteSurvivesRestart() {
        var cluster = TestCluster(replicas: [makeReplica(1, voters: [1, 2, 3], term: 5)])
        cluster.replicas[1]!.step(message(.vote, from: 2, to: 1, term: 6))
        cluster.process(1)
        cluster.restart(1)
        #expect(cluster[1].term == 6 && cluster[1].vote == 2)
        cluster.replicas[1]!.step(message(.vote, from: 3, to: 1, term: 6))
        #expect(cluster.replicas[1]!.drainMessages().first { $0.kind == .voteResponse }?.reject == true)
    }

    @Test("Lesson 2 (PySyncObj #202, raft-rs #128): a vote grant leaves only after the term and vote are persisted")
    func voteGrantWaitsForPersistence() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 5)
        replica.step(message(.vote, from: 2, to: 1, term: 6))
        let ready = replica.ready()
        #expect(!ready.messages.contains { $0.kind == .voteResponse }, "a grant must not be sendable before the persist")
        #expect(ready.messagesAfterPersist.contains { $0.kind == .voteResponse && !$0.reject && $0.to == 2 })
        #expect(ready.hardState == HardState(term: 6, vote: 2, commit: 0))
        // A crash before the persist: the grant was never sent, and the node
        // restarts at the old term with no vote.
        let restarted = Replica(id: 1, storage: replica.storage, hardState: replica.storage.hardState, randomSeed: 1)
        #expect(restarted.term == 5 && restarted.vote == nil)
    }

    @Test("Lesson 2: a candidate counts its own vote only once it is durable")
    func ownVoteCountsAfterPersistence() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        try? replica.campaign()
        let ready = replica.ready()
        // One other grant plus our own makes a majority, but ours is not durable.
        replica.step(message(.voteResponse, from: 2, to: 1, term: 2))
        #expect(replica.role == .candidate)
        replica.updateStorage { $0.hardState = ready.hardState ?? $0.hardState }
        replica.advance(ready)
        #expect(replica.role == .leader)
    }

    @Test("Lesson 2 (restart of all nodes): committed entries survive a restart of every node")
    func committedSurvivesFullRestart() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.propose(1, "kept")
        for id in [1, 2, 3] as [NodeID] { cluster.restart(id) }
        cluster.tickAll(times: 40)
        #expect(cluster.leaders.count == 1)
        cluster.tickAll(times: 3)
        for id in [1, 2, 3] as [NodeID] { #expect(cluster.appliedData(id) == ["kept"]) }
    }

    @Test("Lesson 3 (openraft io ordering): a new term and the entries of that term are persisted in the same Ready, before the ack")
    func termAndEntriesPersistedTogether() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1], term: 1)
        follower.step(message(.append, from: 1, to: 2, term: 3, logTerm: 1, index: 1, entries: entries(term: 3, from: 2, count: 2)))
        let ready = follower.ready()
        #expect(ready.hardState?.term == 3)
        #expect(ready.entries.map(\.term) == [3, 3])
        #expect(!ready.messages.contains { $0.kind == .appendResponse })
        #expect(ready.messagesAfterPersist.contains { $0.kind == .appendResponse && $0.index == 3 && !$0.reject })
    }

    @Test("Lesson 4 (etcd #14370): a single-node cluster commits an entry only after it is durable")
    func singleNodeCommitsAfterPersist() throws {
        var replica = makeReplica(1, voters: [1], term: 1)
        try replica.campaign()
        while replica.hasReady { replica.persistAndAdvance() }
        #expect(replica.role == .leader)
        let commit = replica.commitIndex
        #expect(commit == 1, "the no-op is committed")
        try replica.propose(Array("w".utf8))
        let ready = replica.ready()
        #expect(ready.entries.count == 1)
        #expect(ready.committedEntries.isEmpty && replica.commitIndex == commit, "nothing may commit before the fsync")
        // Crash before the persist: the write was never acknowledged and is gone.
        let crashed = Replica(id: 1, storage: replica.storage, hardState: replica.storage.hardState, randomSeed: 1)
        #expect(crashed.lastIndex == commit)
        // Persist, and it commits and is applied.
        replica.updateStorage { $0.append(ready.entries) }
        replica.advance(ready)
        #expect(replica.commitIndex == commit + 1)
        #expect(replica.persistAndAdvance().committedEntries.map(\.data) == [Array("w".utf8)])
    }

    @Test("Persistence contract clause 2: the leader sends appends at once but counts itself only once durable")
    func leaderSelfAckAfterPersist() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        try cluster.replicas[1]!.propose(Array("x".utf8))
        let ready = cluster.replicas[1]!.ready()
        #expect(ready.messages.contains { $0.kind == .append && $0.entries.count == 1 }, "appends may go before the fsync")
        let index = ready.entries[0].index
        // Only node 2 acknowledges; without the leader's own durable copy
        // that is 1 of 3.
        cluster.replicas[1]!.step(message(.appendResponse, from: 2, to: 1, term: cluster[1].term, index: index))
        #expect(cluster[1].commitIndex < index)
        cluster.replicas[1]!.updateStorage { $0.append(ready.entries) }
        cluster.replicas[1]!.advance(ready)
        #expect(cluster[1].commitIndex == index)
    }
}
