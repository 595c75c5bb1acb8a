import Testing
@testable import RaftCore

/// What the pipelined runtime relies on in the core: a commit index advertised once durable
/// and once only, a `Ready` that only raises the commit index, a freshly added voter under
/// check-quorum, and the invariant counter.
@Suite("Core support for the pipelined runtime")
struct PipelineCoreTests {
    @Test("Check-quorum: a leader that adds a voter it never contacted is not deposed at the next quorum check")
    func newVoterCountsAsActiveUntilItCouldAnswer() throws {
        var cluster = TestCluster(voters: [1], options: plainOptions(checkQuorum: true))
        cluster.elect(1)
        try cluster.replicas[1]!.proposeConfChange(ConfChange([.addVoter(2)]))
        cluster.process(1)
        #expect(cluster[1].configuration.voters == [1, 2], "the change is applied")
        // Node 2 does not exist yet (its messages go nowhere). The first quorum check after
        // the change must still count it: it never had a chance to answer.
        cluster.network = []
        for _ in 0..<10 {
            cluster.tick(1)
            cluster.network = []
        }
        #expect(cluster[1].role == .leader, "deposed by a quorum check that counted the new voter as silent")
        // It stays silent: a later check may then step down, as check-quorum intends.
        for _ in 0..<25 {
            cluster.tick(1)
            cluster.network = []
        }
        #expect(cluster[1].role != .leader)
    }

    @Test("A new commit index goes to each follower once, after it is durable: no empty appends that carry the old one")
    func oneCommitBroadcast() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.deliverAll()
        var lastCommitSent: [NodeID: UInt64] = [:]
        var uninformative = 0
        for round in 0..<5 {
            try cluster.replicas[1]!.propose(Array("x\(round)".utf8))
            cluster.process(1)
            var steps = 0
            while !cluster.network.isEmpty && steps < 1_000 {
                steps += 1
                let message = cluster.network.removeFirst()
                if message.from == 1, message.kind == .append, message.entries.isEmpty {
                    if message.commit <= lastCommitSent[message.to, default: 0] { uninformative += 1 }
                }
                if message.from == 1, message.kind == .append {
                    lastCommitSent[message.to] = max(lastCommitSent[message.to, default: 0], message.commit)
                }
                cluster.deliver(message)
            }
        }
        #expect(cluster[1].commitIndex == cluster[1].lastIndex, "everything committed")
        #expect(cluster[2].commitIndex == cluster[1].commitIndex && cluster[3].commitIndex == cluster[1].commitIndex)
        #expect(uninformative == 0, "\(uninformative) empty appends carried no new commit index")
    }

    @Test("A Ready that only raises the commit index may be advanced before it is durable; followers learn the commit once it is")
    func commitOnlyReadyAdvancesEarly() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.deliverAll()
        try cluster.replicas[1]!.propose(Array("early".utf8))
        cluster.process(1)
        // Deliver the append and the acknowledgements, but not what comes after the leader's
        // commit: take the leader's Readys by hand.
        let before = cluster[1].hardState
        var steps = 0
        while !cluster.network.isEmpty && steps < 100 {
            steps += 1
            let message = cluster.network.removeFirst()
            if message.to == 1 {
                cluster.replicas[1]!.step(message)
            } else {
                cluster.deliver(message)
            }
        }
        // The leader's own append was durable in `propose`'s processing; the follower acks
        // just committed the entry.
        var leader = cluster[1]
        #expect(leader.hasReady)
        let ready = leader.ready()
        #expect(ready.onlyAdvancesCommit(after: before), "the only durable change is the commit index")
        #expect(ready.committedEntries.map(\.data) == [Array("early".utf8)])
        var early = ready
        early.hardState = nil
        leader.advance(early)
        #expect(leader.appliedIndex == ready.committedEntries.last?.index, "applied before the commit is durable")
        // Not durable yet: the followers must not hear of the commit.
        let notYet = leader.ready().messages.filter { $0.kind == .append && $0.commit >= leader.commitIndex }
        #expect(notYet.isEmpty, "advertised a commit index that is not durable")
        leader.hardStateDurable(try #require(ready.hardState))
        let now = leader.ready().messages.filter { $0.kind == .append && $0.commit == leader.commitIndex }
        #expect(Set(now.map(\.to)) == [2, 3], "the commit goes to every follower once durable")
    }

    @Test("A Ready with a new term or vote is never commit-only")
    func termOrVoteChangeIsNotCommitOnly() {
        let previous = HardState(term: 3, vote: 1, commit: 5)
        var ready = Ready(role: .follower, leader: nil)
        ready.hardState = HardState(term: 4, vote: nil, commit: 5)
        #expect(!ready.onlyAdvancesCommit(after: previous))
        ready.hardState = HardState(term: 3, vote: 2, commit: 6)
        #expect(!ready.onlyAdvancesCommit(after: previous))
        ready.hardState = HardState(term: 3, vote: 1, commit: 6)
        #expect(ready.onlyAdvancesCommit(after: previous))
        ready.entries = [Entry(term: 3, index: 7, data: [1])]
        #expect(!ready.onlyAdvancesCommit(after: previous), "entries need their fsync")
    }

    @Test("No internal invariant breaks in an ordinary run")
    func ordinaryRunCountsNoViolations() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        for number in 0..<20 { try cluster.propose(1, "v\(number)") }
        cluster.deliverAll()
        for id in cluster.ids { #expect(cluster[id].invariantViolations == 0) }
    }
}
