import Testing
@testable import RaftCore

/// Raft §5.4.2, Figure 8, played through to the harm it describes: a leader that commits an
/// entry of an earlier term by counting its replicas applies it, and a later leader that never
/// held it overwrites it on the very nodes that counted. The unit tests (`LessonsLogTests`,
/// `PaperReplicationTests.figure8`) check the commit rule; this one checks, with the safety
/// invariants, that the cluster never gets there (issue 14: the randomized tests only found
/// the broken rule at thousands of seeds).
@Suite("Figure 8: an earlier term's entry is never committed by counting replicas")
struct Figure8ScenarioTests {
    @Test("S1 (term 4) copies index 2 of term 2 to S2 and S3 but not its own no-op; S5 then wins term 5 and overwrites index 2; no node ever applies what S5 overwrote")
    func figure8PlayedThrough() {
        let voters: [NodeID] = [1, 2, 3, 4, 5]
        // (a)/(b): index 1 is committed everywhere; S1 holds index 2 from term 2, S5 holds
        // index 2 from term 3. One entry per append, so index 2 and the no-op travel apart.
        var options = plainOptions()
        options.maxMessageBytes = 1
        var cluster = TestCluster(replicas: [
            makeReplica(1, voters: voters, terms: [1, 2], term: 3, commit: 1, options: options),
            makeReplica(2, voters: voters, terms: [1], term: 3, commit: 1, options: options),
            makeReplica(3, voters: voters, terms: [1], term: 3, commit: 1, options: options),
            makeReplica(4, voters: voters, terms: [1], term: 3, commit: 1, options: options),
            makeReplica(5, voters: voters, terms: [1, 3], term: 4, commit: 1, options: options),
        ], options: options)
        var checker = InvariantChecker()
        cluster.processAll()
        cluster.network = []
        #expect(checker.check(cluster) == nil)

        // (c): S1 wins term 4 with S2 and S3 and copies index 2 to both, but its no-op
        // (index 3, term 4) reaches neither.
        cluster.isolate(4)
        cluster.isolate(5)
        try? cluster.replicas[1]!.campaign()
        cluster.processAll()
        var steps = 0
        while !cluster.network.isEmpty, steps < 10_000 {
            steps += 1
            let next = cluster.network.removeFirst()
            // The no-op gets through only while the follower lacks index 2 and must refuse it.
            if next.kind == .append, next.entries.contains(where: { $0.index == 3 }), cluster[next.to].log.term(at: 2) == 2 {
                continue
            }
            cluster.deliver(next)
        }
        #expect(cluster[1].role == .leader && cluster[1].term == 4)
        #expect(cluster[2].log.term(at: 2) == 2 && cluster[3].log.term(at: 2) == 2, "index 2 (term 2) is on S1, S2, S3")
        #expect(cluster[1].commitIndex == 1, "a majority holds index 2, but it is of term 2, not 4")
        #expect(checker.check(cluster) == nil)

        // (d): S1 crashes; S5 (last term 3) wins term 5 with S2, S3, S4 and replaces index 2.
        cluster.heal()
        cluster.isolate(1)
        cluster.network = []
        cluster.elect(5)
        #expect(cluster[5].role == .leader && cluster[5].term == 5)
        cluster.tickAll(times: 2)
        #expect(cluster[2].log.term(at: 2) == 3)
        #expect(checker.check(cluster) == nil, "the entry S5 overwrote was never committed")

        // S1 comes back and converges on S5's log.
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(checker.check(cluster) == nil)
        for id in cluster.ids { #expect(cluster.appliedData(id) == ["e1t1", "e2t3"], "node \(id)") }
    }
}
