import Testing
@testable import RaftCore

/// Raft items 5–9 of LESSONS.md: the commit rule and log handling.
@Suite("LESSONS Raft 5–9: commit rule and log handling")
struct LessonsLogTests {
    @Test("Lesson 5 (logcabin #44, Figure 8): replicas of a previous-term entry on a majority do not commit it")
    func previousTermEntryNotCommittedByCounting() {
        var leader = makeReplica(1, voters: [1, 2, 3], terms: [1, 1, 2], term: 2)
        try? leader.campaign()
        leader.persistAndAdvance()
        leader.step(message(.voteResponse, from: 2, to: 1, term: 3))
        #expect(leader.role == .leader)
        leader.persistAndAdvance()
        // Node 2 holds index 3 (term 2): with the leader that is 2 of 3.
        leader.step(message(.appendResponse, from: 2, to: 1, term: 3, index: 3))
        #expect(leader.commitIndex == 0)
        // Once node 2 holds the leader's no-op (index 4, term 3), all commit.
        leader.step(message(.appendResponse, from: 2, to: 1, term: 3, index: 4))
        #expect(leader.commitIndex == 4)
    }

    @Test("Lesson 6 (openraft): a stale append that matches does not truncate entries after it")
    func staleAppendDoesNotTruncate() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 1, 1, 1], term: 1)
        // A delayed copy of an older append: previous index 1, one entry.
        follower.step(message(.append, from: 1, to: 2, term: 1, logTerm: 1, index: 1, entries: [Entry(term: 1, index: 2, data: Array("e2t1".utf8))]))
        let reply = follower.drainMessages().first { $0.kind == .appendResponse }
        #expect(reply?.reject == false)
        #expect(follower.lastIndex == 5, "entries 3–5 must survive")
        #expect(follower.storage.lastIndex == 5)
        // Even with a commit index that covers them, since they match.
        follower.step(message(.append, from: 1, to: 2, term: 1, logTerm: 1, index: 1, entries: [Entry(term: 1, index: 2, data: Array("e2t1".utf8))], commit: 5))
        follower.drainMessages()
        #expect(follower.lastIndex == 5)
        #expect(follower.commitIndex == 2, "commit is capped by what this append proved matching")
    }

    @Test("Lesson 7 (openraft #1802): the commit index rises only with a real quorum of durable voter copies")
    func commitNeedsRealQuorum() throws {
        var cluster = TestCluster(voters: [1, 2, 3, 4, 5], learners: [6], options: plainOptions())
        cluster.elect(1)
        try cluster.replicas[1]!.propose(Array("x".utf8))
        let ready = cluster.replicas[1]!.ready()
        let index = ready.entries[0].index
        let term = cluster[1].term
        let before = cluster[1].commitIndex
        // Duplicated acknowledgements from one follower count once.
        for _ in 0..<3 { cluster.replicas[1]!.step(message(.appendResponse, from: 2, to: 1, term: term, index: index)) }
        // A learner's acknowledgement never counts.
        cluster.replicas[1]!.step(message(.appendResponse, from: 6, to: 1, term: term, index: index))
        // An unknown node's acknowledgement is dropped.
        cluster.replicas[1]!.step(message(.appendResponse, from: 9, to: 1, term: term, index: index))
        #expect(cluster[1].commitIndex == before)
        cluster.replicas[1]!.step(message(.appendResponse, from: 3, to: 1, term: term, index: index))
        #expect(cluster[1].commitIndex == before, "2 of 5 voters plus a non-durable leader copy is not a quorum")
        cluster.replicas[1]!.updateStorage { $0.append(ready.entries) }
        cluster.replicas[1]!.advance(ready)
        #expect(cluster[1].commitIndex == index)
        #expect(cluster[1].droppedMessages >= 1)
    }

    @Test("Lesson 8 (hashicorp/raft #704): installing a snapshot discards a conflicting entry at its last index")
    func snapshotDiscardsConflictingEntry() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 2, 2], term: 3, commit: 2)
        let snapshot = SnapshotMetadata(index: 3, term: 3, configuration: Configuration(voters: [1, 2, 3]))
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 3, snapshot: snapshot))
        let ready = follower.persistAndAdvance()
        #expect(ready.snapshot == snapshot)
        #expect(follower.log.term(at: 3) == 3, "the entry at the snapshot index must take the snapshot's term")
        #expect(follower.lastIndex == 3, "entries after a conflicting snapshot index are discarded")
        #expect(follower.storage.firstIndex == 4 && follower.storage.lastIndex == 3)
        #expect(ready.messagesAfterPersist.contains { $0.kind == .appendResponse && $0.index == 3 && !$0.reject })
        // The same snapshot again is acknowledged without a reinstall: no loop.
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 3, snapshot: snapshot))
        let again = follower.persistAndAdvance()
        #expect(again.snapshot == nil)
        #expect(again.messagesAfterPersist.contains { $0.kind == .appendResponse && $0.index == 3 })
    }

    @Test("Lesson 9 (etcd-io/raft #31, #442; etcd #18055; raft-rs #417): appends and replies around truncation and compaction never trap")
    func truncationAndCompactionRaces() {
        // A follower whose log was compacted through 5 gets appends that
        // reach below its snapshot.
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 1, 1, 1, 1, 1], term: 1, commit: 7)
        follower.updateStorage { $0.compact(through: 5, configuration: Configuration(voters: [1, 2, 3])) }
        follower.step(message(.append, from: 1, to: 2, term: 1, logTerm: 1, index: 2, entries: entries(term: 1, from: 3, count: 3)))
        follower.step(message(.append, from: 1, to: 2, term: 1, logTerm: 9, index: 3))
        follower.step(message(.heartbeat, from: 1, to: 2, term: 1, commit: 1_000))
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 1, snapshot: SnapshotMetadata(index: 4, term: 1, configuration: Configuration(voters: [1, 2, 3]))))
        let replies = follower.drainMessages()
        #expect(replies.allSatisfy { $0.kind != .appendResponse || $0.reject || $0.index >= 7 })
        #expect(follower.commitIndex == 7)
        #expect(follower.lastIndex == 7)

        // A leader that compacted while a follower was replicating falls back
        // to a snapshot when the follower rejects.
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(3)
        for text in ["a", "b", "c", "d"] { try? cluster.propose(1, text) }
        cluster.compact(1)
        cluster.heal()
        cluster.replicas[1]!.step(message(.appendResponse, from: 3, to: 1, term: cluster[1].term, index: 1, reject: true, rejectHint: 1))
        cluster.replicas[1]!.step(message(.appendResponse, from: 3, to: 1, term: cluster[1].term, index: 50))
        cluster.replicas[1]!.step(message(.appendResponse, from: 3, to: 1, term: cluster[1].term, index: 5, reject: true, rejectHint: 60))
        cluster.tickAll(times: 3)
        #expect(cluster.appliedData(3) == ["a", "b", "c", "d"])
        #expect(cluster[1].droppedMessages >= 2, "a reply beyond the log and an inconsistent hint are counted")
    }
}
