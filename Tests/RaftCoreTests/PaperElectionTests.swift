import Testing
@testable import RaftCore

/// The Raft paper, §5.1 (terms) and §5.2 (leader election).
@Suite("Paper §5.1–5.2: terms and leader election")
struct PaperElectionTests {
    @Test("§5.1: follower, candidate and leader all adopt a higher term and become followers", arguments: [Role.follower, .candidate, .leader])
    func higherTermMakesFollower(role: Role) {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        switch role {
        case .leader: cluster.elect(1)
        case .candidate:
            try? cluster.replicas[1]!.campaign()
            cluster.process(1)
            cluster.network = []
        default: break
        }
        #expect(cluster[1].role == role)
        cluster.replicas[1]!.step(message(.append, from: 2, to: 1, term: 7))
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 7)
        #expect(cluster[1].leader == 2)
        #expect(cluster[1].vote == nil)
    }

    @Test("§5.1: a request with a stale term is refused with the current term, and the stale leader steps down")
    func staleTermRefused() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(1)
        cluster.elect(2)
        #expect(cluster[2].role == .leader)
        let newTerm = cluster[2].term
        cluster.heal()
        // The old leader's heartbeat reaches a follower of the new term.
        cluster.replicas[3]!.step(message(.heartbeat, from: 1, to: 3, term: newTerm - 1))
        let replies = cluster.replicas[3]!.drainMessages()
        #expect(replies.count == 1)
        #expect(replies.first?.kind == .appendResponse && replies.first?.term == newTerm)
        #expect(cluster[3].leader == 2, "a stale message must not change the follower's leader")
        cluster.replicas[1]!.step(replies[0])
        #expect(cluster[1].role == .follower && cluster[1].term == newTerm)
    }

    @Test("§5.1: stale vote requests are ignored")
    func staleVoteIgnored() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 5)
        replica.step(message(.vote, from: 2, to: 1, term: 4, logTerm: 9, index: 9))
        let replies = replica.drainMessages()
        #expect(replies.allSatisfy { !($0.kind == .voteResponse && !$0.reject) })
        #expect(replica.vote == nil && replica.term == 5)
    }

    @Test("§5.2: a follower that hears nothing becomes a candidate after its timeout, votes for itself and asks everyone")
    func electionStart() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        var ticks = 0
        while replica.role == .follower && ticks < 100 {
            replica.tick()
            ticks += 1
        }
        #expect(ticks >= 10 && ticks < 20, "timeout must lie in [T, 2T)")
        #expect(replica.role == .candidate)
        #expect(replica.term == 2)
        #expect(replica.vote == 1)
        let messages = replica.drainMessages()
        let requests = messages.filter { $0.kind == .vote }
        #expect(Set(requests.map(\.to)) == [2, 3])
        #expect(requests.allSatisfy { $0.term == 2 })
    }

    @Test("§5.2: a candidate that gets a majority becomes leader and announces itself")
    func electionWin() {
        var cluster = TestCluster(voters: [1, 2, 3, 4, 5], options: plainOptions())
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        for id in [2, 3, 4, 5] as [NodeID] {
            #expect(cluster[id].leader == 1 && cluster[id].role == .follower)
        }
    }

    @Test("§5.2: a candidate rejected by a majority returns to follower")
    func electionLoss() {
        // Nodes 2 and 3 have longer logs, so they refuse node 1.
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: [1, 2, 3], terms: [1], term: 1),
            makeReplica(2, voters: [1, 2, 3], terms: [1, 1], term: 1),
            makeReplica(3, voters: [1, 2, 3], terms: [1, 1], term: 1),
        ])
        cluster.elect(1)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 2)
        #expect(cluster.leaders.isEmpty)
    }

    @Test("§5.2: a candidate steps down when a leader of its term appears")
    func candidateYieldsToLeader() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        try? replica.campaign()
        #expect(replica.role == .candidate)
        replica.step(message(.append, from: 2, to: 1, term: replica.term))
        #expect(replica.role == .follower)
        #expect(replica.leader == 2)
    }

    @Test("§5.2: a split vote elects nobody; a later election in a higher term succeeds")
    func splitVote() {
        var cluster = TestCluster(voters: [1, 2, 3, 4], options: plainOptions())
        // 1 and 2 campaign at once; 3 votes for 1 and 4 for 2: 2 votes each of 4.
        try? cluster.replicas[1]!.campaign()
        try? cluster.replicas[2]!.campaign()
        let requests = cluster.takeMessages()
        for request in requests where (request.from == 1 && request.to == 3) || (request.from == 2 && request.to == 4) {
            cluster.deliver(request)
        }
        for request in requests where !((request.from == 1 && request.to == 3) || (request.from == 2 && request.to == 4)) {
            cluster.deliver(request)
        }
        cluster.deliverAll()
        #expect(cluster.leaders.isEmpty, "no candidate may win with half the votes")
        let splitTerm = cluster[1].term
        cluster.tickAll(times: 40)
        #expect(cluster.leaders.count == 1)
        #expect(cluster[cluster.leaders[0]].term > splitTerm)
    }

    @Test("§5.2: a node grants at most one vote per term, first come first served")
    func oneVotePerTerm() {
        var replica = makeReplica(1, voters: [1, 2, 3], term: 1)
        replica.step(message(.vote, from: 2, to: 1, term: 2))
        replica.step(message(.vote, from: 3, to: 1, term: 2))
        let replies = replica.drainMessages().filter { $0.kind == .voteResponse }
        #expect(replies.count == 2)
        #expect(replies.first { $0.to == 2 }?.reject == false)
        #expect(replies.first { $0.to == 3 }?.reject == true)
        #expect(replica.vote == 2)
        // A repeated request from the same candidate is granted again.
        replica.step(message(.vote, from: 2, to: 1, term: 2))
        #expect(replica.drainMessages().first?.reject == false)
    }

    @Test("§5.2: election timeouts are randomized within [T, 2T) and differ between nodes")
    func randomizedTimeouts() {
        var timeouts: Set<Int> = []
        for seed in 0..<50 as Range<UInt64> {
            var replica = Replica(
                id: 1, storage: MemoryLogStorage(configuration: Configuration(voters: [1, 2, 3])),
                hardState: HardState(), options: plainOptions(), randomSeed: seed
            )
            var ticks = 0
            while replica.role == .follower && ticks < 100 {
                replica.tick()
                ticks += 1
            }
            #expect((10..<20).contains(ticks))
            timeouts.insert(ticks)
        }
        #expect(timeouts.count >= 5, "timeouts should spread over the range, got \(timeouts.sorted())")
    }

    @Test("§5.2: the same seed gives the same timeouts (determinism)")
    func deterministicTimeouts() {
        func firstTimeout(seed: UInt64) -> Int {
            var replica = Replica(
                id: 1, storage: MemoryLogStorage(configuration: Configuration(voters: [1, 2, 3])),
                hardState: HardState(), options: plainOptions(), randomSeed: seed
            )
            var ticks = 0
            while replica.role == .follower { replica.tick(); ticks += 1 }
            return ticks
        }
        #expect((0..<20).map { firstTimeout(seed: $0) } == (0..<20).map { firstTimeout(seed: $0) })
    }

    @Test("§5.2: a leader sends heartbeats to every follower each heartbeat interval")
    func heartbeats() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.replicas[1]!.tick()
        let sent = cluster.takeMessages().filter { $0.kind == .heartbeat }
        #expect(Set(sent.map(\.to)) == [2, 3])
        // Followers that keep hearing heartbeats never campaign.
        cluster.tickAll(times: 100)
        #expect(cluster.leaders == [1])
        #expect(cluster[2].term == cluster[1].term)
    }
}
