import Testing
@testable import RaftCore

/// Log compaction and InstallSnapshot.
@Suite("Snapshots and compaction")
struct SnapshotTests {
    /// A cluster whose leader compacted entries node 3 never received.
    static func clusterWithLaggingFollower() throws -> TestCluster {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        cluster.isolate(3)
        for text in ["a", "b", "c"] { try cluster.propose(1, text) }
        cluster.compact(1)
        cluster.compact(2)
        cluster.heal()
        return cluster
    }

    @Test("Snapshot: a follower behind the compaction point gets a snapshot and catches up")
    func followerBehindCompaction() throws {
        var cluster = try Self.clusterWithLaggingFollower()
        let snapshotIndex = cluster[1].storage.snapshot.index
        cluster.tickAll(times: 3)
        #expect(cluster.network.isEmpty)
        let sent = cluster.readyLog[1]!.flatMap(\.messages).filter { $0.kind == .snapshot && $0.to == 3 }
        #expect(sent.count == 1)
        #expect(cluster[3].storage.snapshot.index == snapshotIndex)
        #expect(cluster.appliedData(3) == ["a", "b", "c"])
        try cluster.propose(1, "d")
        #expect(cluster.appliedData(3) == ["a", "b", "c", "d"])
        #expect(cluster[1].status.progress[3]?.state == .replicate)
    }

    @Test("Snapshot: a failed transfer sends the leader back to probing, and a retry succeeds")
    func failedTransferRetries() throws {
        var cluster = try Self.clusterWithLaggingFollower()
        // Intercept the snapshot instead of delivering it.
        var attempts = 0
        for _ in 0..<10 {
            cluster.replicas[1]!.tick()
            let messages = cluster.takeMessages()
            for message in messages {
                if message.kind == .snapshot && attempts == 0 {
                    attempts += 1
                    #expect(cluster[1].status.progress[3]?.state == .snapshot)
                    cluster.replicas[1]!.reportSnapshot(to: 3, succeeded: false)
                    #expect(cluster[1].status.progress[3]?.state == .probe)
                } else {
                    cluster.deliver(message)
                }
            }
        }
        cluster.deliverAll()
        cluster.tickAll(times: 3)
        #expect(attempts == 1)
        #expect(cluster.appliedData(3) == ["a", "b", "c"])
    }

    @Test("Snapshot: a snapshot racing with newer appends: appends after the snapshot survive, a stale snapshot is ignored")
    func snapshotRacingWithAppends() {
        let configuration = Configuration(voters: [1, 2, 3])
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1], term: 2)
        // The snapshot (through 5) arrives first, then appends 6–7.
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 2, snapshot: SnapshotMetadata(index: 5, term: 2, configuration: configuration)))
        follower.step(message(.append, from: 1, to: 2, term: 2, logTerm: 2, index: 5, entries: entries(term: 2, from: 6, count: 2), commit: 6))
        let ready = follower.persistAndAdvance()
        #expect(ready.snapshot?.index == 5)
        #expect(ready.entries.map(\.index) == [6, 7], "entries after the snapshot go in the same Ready, after it")
        #expect(follower.storage.firstIndex == 6 && follower.storage.lastIndex == 7)
        #expect(follower.commitIndex == 6)
        // A delayed copy of an older snapshot changes nothing.
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 2, snapshot: SnapshotMetadata(index: 4, term: 2, configuration: configuration)))
        let late = follower.persistAndAdvance()
        #expect(late.snapshot == nil)
        #expect(follower.lastIndex == 7)
        // And a delayed append below the snapshot is acknowledged, not applied.
        follower.step(message(.append, from: 1, to: 2, term: 2, logTerm: 1, index: 1, entries: entries(term: 2, from: 2, count: 1)))
        let reply = follower.drainMessages().first { $0.kind == .appendResponse }
        #expect(reply?.reject == false && reply?.index == 6)
        #expect(follower.lastIndex == 7)
    }

    @Test("Snapshot: a follower whose log already holds the snapshot's last entry keeps the entries after it")
    func matchingSnapshotKeepsLaterEntries() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 2, 2, 2], term: 2, commit: 1)
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 2, snapshot: SnapshotMetadata(index: 3, term: 2, configuration: Configuration(voters: [1, 2, 3]))))
        let ready = follower.persistAndAdvance()
        #expect(ready.snapshot == nil, "no install needed")
        #expect(follower.lastIndex == 5)
        #expect(follower.commitIndex == 3)
        #expect(ready.messagesAfterPersist.contains { $0.kind == .appendResponse && $0.index == 3 })
    }

    @Test("Snapshot: a snapshot whose last index conflicts with the follower's log replaces the whole log")
    func conflictingSnapshotReplacesLog() {
        var follower = makeReplica(2, voters: [1, 2, 3], terms: [1, 1, 1, 1, 1, 1], term: 1, commit: 1)
        follower.step(Message(kind: .snapshot, from: 1, to: 2, term: 3, snapshot: SnapshotMetadata(index: 4, term: 3, configuration: Configuration(voters: [1, 2, 3], learners: [4]))))
        follower.persistAndAdvance()
        #expect(follower.lastIndex == 4)
        #expect(follower.log.term(at: 4) == 3)
        #expect(follower.log.term(at: 5) == nil, "entries after a conflicting snapshot index are gone")
        #expect(follower.configuration == Configuration(voters: [1, 2, 3], learners: [4]))
        #expect(follower.appliedIndex == 4)
    }

    @Test("Compaction: the core holds only unpersisted entries; durable ones are read from storage")
    func coreHoldsOnlyUnpersistedEntries() throws {
        var cluster = TestCluster(voters: [1, 2, 3], options: plainOptions())
        cluster.elect(1)
        for index in 0..<50 { try cluster.propose(1, "p\(index)") }
        for id in [1, 2, 3] as [NodeID] {
            #expect(cluster[id].log.unstable.entries.isEmpty)
        }
        try cluster.replicas[1]!.propose(Array("pending".utf8))
        #expect(cluster[1].log.unstable.entries.count == 1)
    }
}
