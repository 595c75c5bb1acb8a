import Testing
@testable import RaftCore

/// Messages from the network can be anything: they are dropped and counted,
/// never trusted, and never trap.
@Suite("Robustness against hostile messages")
struct RobustnessTests {
    static let configuration = Configuration(voters: [1, 2, 3])

    @Test("Robustness: malformed messages are dropped, counted, and change nothing", arguments: [
        Message(kind: .append, from: 2, to: 9, term: 5),
        Message(kind: .append, from: 0, to: 1, term: 5),
        Message(kind: .append, from: 1, to: 1, term: 5),
        Message(kind: .append, from: 2, to: 1, term: 1 << 63),
        Message(kind: .heartbeat, from: 2, to: 1, term: 5, commit: .max),
        Message(kind: .append, from: 2, to: 1, term: 5, logTerm: 1, index: .max - 1, entries: [Entry(term: 5, index: .max)]),
        Message(kind: .append, from: 2, to: 1, term: 5, logTerm: 1, index: 1, entries: [Entry(term: 5, index: 3)]),
        Message(kind: .append, from: 2, to: 1, term: 5, logTerm: 1, index: 1, entries: [Entry(term: 6, index: 2)]),
        Message(kind: .append, from: 2, to: 1, term: 5, logTerm: 3, index: 1, entries: [Entry(term: 2, index: 2)]),
        Message(kind: .append, from: 2, to: 1, term: 5, logTerm: 1, index: 1, entries: [Entry(term: 5, index: 2), Entry(term: 4, index: 3)]),
        Message(kind: .vote, from: 2, to: 1, term: 5, entries: [Entry(term: 1, index: 1)]),
        Message(kind: .snapshot, from: 2, to: 1, term: 5),
        Message(kind: .snapshot, from: 2, to: 1, term: 5, snapshot: SnapshotMetadata(index: 9, term: 9, configuration: configuration)),
        Message(kind: .snapshot, from: 2, to: 1, term: 5, snapshot: SnapshotMetadata(index: 9, term: 5, configuration: Configuration(voters: []))),
    ])
    func malformedDropped(hostile: Message) {
        var replica = makeReplica(1, voters: [1, 2, 3], terms: [1, 1], term: 4)
        let before = replica.hardState
        replica.step(hostile)
        #expect(replica.droppedMessages == 1)
        #expect(replica.hardState == before)
        #expect(replica.drainMessages().isEmpty)
        #expect(replica.lastIndex == 2)
    }

    @Test("Robustness: a leader drops replies from unknown nodes and inconsistent replies, and counts them")
    func leaderDropsUnknownAndInconsistent() {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        let term = cluster[1].term
        let before = cluster[1].status
        cluster.replicas[1]!.step(message(.appendResponse, from: 42, to: 1, term: term, index: 1))
        cluster.replicas[1]!.step(message(.heartbeatResponse, from: 42, to: 1, term: term))
        cluster.replicas[1]!.step(message(.appendResponse, from: 2, to: 1, term: term, index: 1_000))
        cluster.replicas[1]!.step(message(.appendResponse, from: 2, to: 1, term: term, index: 1, reject: true, rejectHint: 5))
        cluster.replicas[1]!.step(message(.append, from: 2, to: 1, term: term))
        #expect(cluster[1].droppedMessages == 5)
        #expect(cluster[1].commitIndex == before.hardState.commit)
        #expect(cluster[1].role == .leader)
    }

    @Test("Robustness: a follower never overwrites a committed entry, whatever a message claims")
    func committedEntryNeverOverwritten() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 1], term: 2, commit: 3)
        follower.step(message(.append, from: 1, to: 2, term: 2, logTerm: 1, index: 3, entries: entries(term: 2, from: 4, count: 1)))
        // A (Byzantine) append that would replace committed index 3... is below
        // the commit index and only acknowledged.
        follower.step(message(.append, from: 1, to: 2, term: 2, logTerm: 1, index: 2, entries: entries(term: 2, from: 3, count: 2)))
        #expect(follower.log.term(at: 3) == 1)
        #expect(follower.commitIndex == 3)
    }

    @Test("Robustness: thousands of random messages to nodes in every role never trap", arguments: 0..<20)
    func randomMessagesNeverTrap(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions(preVote: seed % 2 == 0, checkQuorum: seed % 3 == 0), seed: seed)
        cluster.elect(1)
        for index in 0..<8 { try? cluster.propose(1, "v\(index)") }
        cluster.compact(1)
        try? cluster.replicas[3]!.campaign()
        cluster.process(3)
        cluster.network = []
        let kinds: [MessageKind] = [.append, .appendResponse, .heartbeat, .heartbeatResponse, .vote, .voteResponse, .preVote,
                                    .preVoteResponse, .snapshot, .timeoutNow, .readIndex, .readIndexResponse]
        func value() -> UInt64 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: return .max
            case 1: return UInt64.random(in: 0...(.max), using: &random)
            case 2: return (1 << 62) - 1
            default: return UInt64.random(in: 0...12, using: &random)
            }
        }
        for _ in 0..<2_000 {
            let to = UInt64.random(in: 0...4, using: &random)
            let entryCount = Int.random(in: 0...3, using: &random)
            let first = value()
            var hostile = Message(
                kind: kinds.randomElement(using: &random) ?? .append,
                from: UInt64.random(in: 0...4, using: &random), to: to, term: value(),
                logTerm: value(), index: value(),
                entries: (0..<entryCount).map { Entry(term: value(), index: first &+ UInt64($0), data: [1, 2]) },
                commit: value(), reject: Bool.random(using: &random), rejectHint: value(), context: value()
            )
            if hostile.kind == .snapshot || Int.random(in: 0..<8, using: &random) == 0 {
                hostile.snapshot = SnapshotMetadata(index: value(), term: value(), configuration: Configuration(voters: [1, 2, 3]))
            }
            guard cluster.replicas[to] != nil else { continue }
            cluster.replicas[to]!.step(hostile)
            cluster.process(to)
            cluster.network = []
            if Bool.random(using: &random) { cluster.tick(UInt64.random(in: 1...3, using: &random)) }
        }
        #expect(cluster.ids.map { cluster[$0].droppedMessages }.reduce(0, +) > 0)
    }
}
