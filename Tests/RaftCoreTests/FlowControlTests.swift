import Testing
@testable import RaftCore

/// Batching, the per-follower in-flight window, probing and heartbeats.
@Suite("Replication flow control")
struct FlowControlTests {
    static func appends(in cluster: TestCluster, from leader: NodeID, to follower: NodeID) -> [Message] {
        cluster.readyLog[leader, default: []].flatMap(\.messages).filter { $0.kind == .append && $0.to == follower && !$0.entries.isEmpty }
    }

    @Test("Batching: a batch of proposals travels to each follower in one append")
    func batchedProposals() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.readyLog = [:]
        try cluster.replicas[1]!.propose(batch: (0..<10).map { Array("b\($0)".utf8) })
        cluster.deliverAll()
        for follower in [2, 3] as [NodeID] {
            let sent = Self.appends(in: cluster, from: 1, to: follower)
            #expect(sent.count == 1)
            #expect(sent.first?.entries.count == 10)
        }
        #expect(cluster.appliedData(2).count == 10)
    }

    @Test("Batching: an append never carries more than the message byte limit (but at least one entry)")
    func messageByteLimit() throws {
        let options = RaftOptions(electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false, maxMessageBytes: 100)
        var cluster = TestCluster(voters: [1, 2, 3], options: options)
        cluster.elect(1)
        cluster.readyLog = [:]
        try cluster.replicas[1]!.propose(batch: (0..<10).map { _ in [UInt8](repeating: 7, count: 40) })
        cluster.deliverAll()
        let sent = Self.appends(in: cluster, from: 1, to: 2)
        #expect(sent.count >= 5)
        #expect(sent.allSatisfy { $0.entries.reduce(0) { $0 + $1.byteSize } <= 100 || $0.entries.count == 1 })
        #expect(cluster.appliedData(2).count == 10)
    }

    @Test("Window: at most maxInflightMessages unacknowledged appends go to a silent follower")
    func windowBoundedByCount() throws {
        let options = RaftOptions(electionTicks: 10, heartbeatTicks: 5, preVote: false, checkQuorum: false, maxInflightMessages: 2)
        var cluster = TestCluster(voters: [1, 2, 3], options: options)
        cluster.elect(1)
        try cluster.propose(1, "warm")
        #expect(cluster[1].status.progress[3]?.state == .replicate)
        cluster.isolate(3)
        cluster.readyLog = [:]
        for index in 0..<6 { try cluster.propose(1, "p\(index)") }
        #expect(Self.appends(in: cluster, from: 1, to: 3).count == 2)
        #expect(Self.appends(in: cluster, from: 1, to: 2).count == 6)
    }

    @Test("Window: unacknowledged bytes to a follower are bounded too")
    func windowBoundedByBytes() throws {
        let options = RaftOptions(electionTicks: 10, heartbeatTicks: 5, preVote: false, checkQuorum: false, maxInflightMessages: 100, maxInflightBytes: 300)
        var cluster = TestCluster(voters: [1, 2, 3], options: options)
        cluster.elect(1)
        try cluster.propose(1, "warm")
        cluster.isolate(3)
        cluster.readyLog = [:]
        for _ in 0..<10 { try cluster.replicas[1]!.propose([UInt8](repeating: 1, count: 100)) }
        cluster.deliverAll()
        let sent = Self.appends(in: cluster, from: 1, to: 3)
        let bytes = sent.flatMap(\.entries).reduce(0) { $0 + $1.byteSize }
        #expect(sent.count == 3, "124-byte entries: the third append reaches the 300-byte window")
        #expect(bytes < 300 + 124)
    }

    @Test("Window: a follower whose window filled and whose appends were lost recovers after a heartbeat")
    func recoveryAfterLostWindow() throws {
        let options = RaftOptions(electionTicks: 10, heartbeatTicks: 1, preVote: false, checkQuorum: false, maxInflightMessages: 2)
        var cluster = TestCluster(voters: [1, 2, 3], options: options)
        cluster.elect(1)
        try cluster.propose(1, "warm")
        cluster.isolate(3)
        for index in 0..<5 { try cluster.propose(1, "p\(index)") }
        cluster.heal()
        cluster.tickAll(times: 3)
        #expect(cluster.appliedData(3) == ["warm", "p0", "p1", "p2", "p3", "p4"])
    }

    @Test("Probe: a follower in probe state gets no more appends until it answers the outstanding probe")
    func probeSendsOneAtATime() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.isolate(3)
        cluster.elect(1)
        // Node 3 never answered in this term: it is probed, and the probe
        // (the no-op append) is outstanding.
        #expect(cluster[1].status.progress[3]?.state == .probe)
        cluster.readyLog = [:]
        for index in 0..<4 { try cluster.propose(1, "p\(index)") }
        #expect(Self.appends(in: cluster, from: 1, to: 3).isEmpty)
        #expect(Self.appends(in: cluster, from: 1, to: 2).count == 4)
        // Once it answers a heartbeat, probing resumes and it catches up.
        cluster.heal()
        cluster.tickAll(times: 2)
        #expect(cluster[1].status.progress[3]?.state == .replicate)
        #expect(cluster.appliedData(3) == ["p0", "p1", "p2", "p3"])
    }

    @Test("Heartbeats carry the commit index capped by what the follower is known to hold")
    func heartbeatCommitCapped() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(3)
        for index in 0..<3 { try cluster.propose(1, "p\(index)") }
        let match3 = cluster[1].status.progress[3]?.match ?? 0
        #expect(cluster[1].commitIndex > match3)
        cluster.replicas[1]!.tick()
        let heartbeats = cluster.takeMessages().filter { $0.kind == .heartbeat }
        #expect(heartbeats.first { $0.to == 3 }?.commit == match3)
        #expect(heartbeats.first { $0.to == 2 }?.commit == cluster[1].commitIndex)
    }
}
