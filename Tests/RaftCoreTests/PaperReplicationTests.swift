import Testing
@testable import RaftCore

/// The Raft paper, §5.3 (log replication) and §5.4 (safety).
@Suite("Paper §5.3–5.4: log replication and safety")
struct PaperReplicationTests {
    @Test("§5.3: a proposal is replicated and committed once a majority holds it, then applied everywhere")
    func replicateAndCommit() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        // Node 3 is unreachable: node 1 and node 2 still form a majority.
        cluster.isolate(3)
        try cluster.propose(1, "x")
        #expect(cluster.appliedData(1) == ["x"])
        #expect(cluster.appliedData(2) == ["x"])
        #expect(cluster.appliedData(3).isEmpty)
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(cluster.appliedData(3) == ["x"])
    }

    @Test("§5.3: without a majority nothing commits")
    func noMajorityNoCommit() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        let commit = cluster[1].commitIndex
        cluster.isolate(1)
        try cluster.propose(1, "x")
        cluster.tickAll(times: 3)
        #expect(cluster[1].commitIndex == commit)
        #expect(cluster.appliedData(1).isEmpty)
    }

    @Test("§5.3: the consistency check rejects an append whose previous entry does not match")
    func consistencyCheck() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 2], term: 3)
        // Previous entry (3, term 3) does not match our (3, term 2).
        follower.step(message(.append, from: 1, to: 2, term: 3, logTerm: 3, index: 3, entries: entries(term: 3, from: 4, count: 1)))
        let reply = follower.drainMessages().first { $0.kind == .appendResponse }
        #expect(reply?.reject == true)
        #expect(follower.lastIndex == 3)
        // Previous index beyond our log is rejected too.
        follower.step(message(.append, from: 1, to: 2, term: 3, logTerm: 3, index: 9, entries: entries(term: 3, from: 10, count: 1)))
        let second = follower.drainMessages().first { $0.kind == .appendResponse }
        #expect(second?.reject == true)
        #expect(second.map { $0.rejectHint <= 3 } == true, "the hint must not point beyond the follower's log")
    }

    @Test("§5.3: a follower deletes a conflicting entry and all that follow it, then appends the leader's")
    func conflictTruncation() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 2, 2, 2], term: 3)
        follower.step(message(.append, from: 1, to: 2, term: 3, logTerm: 1, index: 2, entries: entries(term: 3, from: 3, count: 1)))
        let reply = follower.drainMessages().first { $0.kind == .appendResponse }
        #expect(reply?.reject == false && reply?.index == 3)
        #expect(logTerms(follower) == [1, 1, 3])
        #expect(follower.storage.lastIndex == 3, "storage must drop the conflicting suffix too")
    }

    static let figure7Leader: [UInt64] = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    static let figure7Followers: [(String, [UInt64])] = [
        ("a", [1, 1, 1, 4, 4, 5, 5, 6, 6]),
        ("b", [1, 1, 1, 4]),
        ("c", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        ("d", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        ("e", [1, 1, 1, 4, 4, 4, 4]),
        ("f", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ]

    @Test("§5.3: Figure 7: the term-8 leader brings each follower log (a)–(f) in line with its own", arguments: 0..<6)
    func figure7(caseIndex: Int) {
        let (name, followerTerms) = Self.figure7Followers[caseIndex]
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: [1, 2, 3], terms: Self.figure7Leader, term: 7),
            makeReplica(2, voters: [1, 2, 3], terms: followerTerms, term: 7),
            makeReplica(3, voters: [1, 2, 3], term: 7),
        ])
        cluster.elect(1)
        #expect(cluster[1].role == .leader && cluster[1].term == 8, "case \(name)")
        cluster.tickAll(times: 3)
        let expected = Self.figure7Leader + [8]
        #expect(logTerms(cluster[2]) == expected, "case \(name)")
        #expect(cluster.logEntries(2) == cluster.logEntries(1), "case \(name): entries must be identical")
        #expect(cluster[2].commitIndex == 11, "case \(name)")
    }

    @Test("§5.3: a rejection hint lets the leader skip a whole divergent term per round trip")
    func fastBacktracking() {
        // The follower has 200 entries of term 2 after index 1; the leader's
        // log diverges right after index 1.
        let followerTerms: [UInt64] = [1] + Array(repeating: 2, count: 200)
        let leaderTerms: [UInt64] = [1] + Array(repeating: 3, count: 5)
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: [1, 2, 3], terms: leaderTerms, term: 3),
            makeReplica(2, voters: [1, 2, 3], terms: followerTerms, term: 3),
            makeReplica(3, voters: [1, 2, 3], terms: leaderTerms, term: 3),
        ])
        cluster.elect(1)
        cluster.tickAll(times: 2)
        let rejections = cluster.readyLog[2, default: []].flatMap(\.messagesAfterPersist).filter { $0.kind == .appendResponse && $0.reject }
        #expect(logTerms(cluster[2]) == leaderTerms + [4])
        #expect(rejections.count <= 2, "expected a few round trips, got \(rejections.count) rejections")
    }

    @Test("§5.3: followers learn the commit index from appends and heartbeats and apply in order")
    func followersApply() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        for text in ["a", "b", "c"] { try cluster.propose(1, text) }
        cluster.tickAll()
        for id in [1, 2, 3] as [NodeID] {
            #expect(cluster.appliedData(id) == ["a", "b", "c"])
            #expect(cluster[id].commitIndex == cluster[1].lastIndex)
        }
    }

    @Test("§5.4.1: a voter refuses a candidate whose log is less up to date", arguments: [
        // (candidate last term, candidate last index, granted?) against a voter whose log ends at term 2, index 3.
        (UInt64(1), UInt64(10), false),
        (2, 2, false),
        (2, 3, true),
        (2, 4, true),
        (3, 1, true),
    ])
    func upToDateRestriction(candidateTerm: UInt64, candidateIndex: UInt64, granted: Bool) {
        var voter = makeReplica(1, voters: [1, 2, 3], terms: [1, 2, 2], term: 3)
        voter.step(message(.vote, from: 2, to: 1, term: 4, logTerm: candidateTerm, index: candidateIndex))
        let reply = voter.drainMessages().first { $0.kind == .voteResponse }
        #expect(reply?.reject == !granted)
        #expect(voter.vote == (granted ? 2 : nil))
    }

    @Test("§5.4.2: Figure 8: a leader never commits an entry of an earlier term by counting replicas")
    func figure8() {
        let voters: [NodeID] = [1, 2, 3, 4, 5]
        // (b)→(c) of Figure 8: S1 holds index 2 from term 2, wins term 4 with
        // S2 and S3, and learns that S2 and S3 hold index 2: a majority.
        var s1 = makeReplica(1, voters: voters, terms: [1, 2], term: 3)
        try? s1.campaign()
        s1.persistAndAdvance()
        s1.step(message(.voteResponse, from: 2, to: 1, term: 4))
        s1.step(message(.voteResponse, from: 3, to: 1, term: 4))
        #expect(s1.role == .leader && s1.term == 4)
        s1.persistAndAdvance()
        s1.step(message(.appendResponse, from: 2, to: 1, term: 4, index: 2))
        s1.step(message(.appendResponse, from: 3, to: 1, term: 4, index: 2))
        s1.persistAndAdvance()
        #expect(s1.commitIndex == 0, "index 2 (term 2) is on a majority but must not be committed by counting")
        // (d): that restraint is what makes it safe for S5 (index 2 at term 3)
        // to win term 5 without S1 and overwrite index 2 everywhere.
        var cluster = TestCluster(replicas: [
            s1,
            makeReplica(2, voters: voters, terms: [1, 2], term: 4),
            makeReplica(3, voters: voters, terms: [1, 2], term: 4),
            makeReplica(4, voters: voters, terms: [1], term: 4),
            makeReplica(5, voters: voters, terms: [1, 3], term: 4),
        ])
        cluster.network = []
        cluster.isolate(1)
        cluster.elect(5)
        #expect(cluster[5].role == .leader)
        cluster.tickAll(times: 2)
        #expect(cluster[2].log.term(at: 2) == 3)
        #expect(cluster.appliedData(2) == ["e1t1", "e2t3"])
        // (e): once S1's own-term entry is on a majority, everything up to it
        // commits. Replay S1's term from (c) with S2 and S3 acknowledging the
        // no-op too.
        var leader = makeReplica(1, voters: voters, terms: [1, 2], term: 3)
        try? leader.campaign()
        leader.persistAndAdvance()
        leader.step(message(.voteResponse, from: 2, to: 1, term: 4))
        leader.step(message(.voteResponse, from: 3, to: 1, term: 4))
        leader.persistAndAdvance()
        leader.step(message(.appendResponse, from: 2, to: 1, term: 4, index: 3))
        leader.step(message(.appendResponse, from: 3, to: 1, term: 4, index: 3))
        #expect(leader.commitIndex == 3)
    }

    @Test("§5.4.2: a new leader commits entries of earlier terms through its own no-op")
    func commitThroughNoOp() {
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: [1, 2, 3], terms: [1, 2], term: 2),
            makeReplica(2, voters: [1, 2, 3], terms: [1, 2], term: 2),
            makeReplica(3, voters: [1, 2, 3], terms: [1], term: 2),
        ])
        cluster.elect(1)
        #expect(cluster[1].log.term(at: 3) == 3, "the new leader appends a no-op of its term")
        #expect(cluster[1].commitIndex == 3)
        #expect(cluster.appliedData(3) == ["e1t1", "e2t2"])
    }
}
