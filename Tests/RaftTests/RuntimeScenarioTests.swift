import Raft
import RaftCore
import RaftSimulation
import Testing
import WAL

/// Scripted runs of the runtime through the failures the persistence contract is about.
@Suite struct RuntimeScenarioTests {
    /// Puts `count` keys through the leader and returns the values acknowledged.
    private func fill(_ cluster: ScenarioCluster, leader: NodeID, count: Int, prefix: String = "k") async -> [String: String] {
        var acknowledged: [String: String] = [:]
        for number in 0..<count {
            let key = "\(prefix)\(number)"
            if case .success(.ok) = await cluster.put(key, "v\(number)", on: leader) { acknowledged[key] = "v\(number)" }
        }
        return acknowledged
    }

    private func expectHolds(_ acknowledged: [String: String], in engine: ScenarioCluster.Engine?, _ context: String) {
        for (key, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
            #expect(engine?.stateMachine.store[key] == Array(value.utf8), "\(context): acknowledged \(key)=\(value) is missing")
        }
    }

    /// A crash at every file-system step of taking a snapshot (writing the file, renaming it,
    /// truncating the log, deleting the old snapshot) must leave the old or the new snapshot
    /// in force, and a log that reaches it: replay restores every acknowledged write.
    @Test func recoveryReplaysAfterACrashAtEveryStepOfASnapshot() async throws {
        // A dry run counts the steps.
        let dry = try await ScenarioCluster(voters: [1], seed: 1) { $0.snapshotEntryThreshold = 1_000_000 }
        _ = await dry.electLeader()
        _ = await fill(dry, leader: 1, count: 20)
        let before = dry.member(1).fileSystem.mutatingOperationCount
        let index = try await dry.engine(1)!.snapshotNow()
        let steps = dry.member(1).fileSystem.mutatingOperationCount - before
        #expect(index > 1 && steps >= 4, "the snapshot took \(steps) steps")

        for cut in 0...steps {
            let cluster = try await ScenarioCluster(voters: [1], seed: 1) { $0.snapshotEntryThreshold = 1_000_000 }
            _ = await cluster.electLeader()
            let acknowledged = await fill(cluster, leader: 1, count: 20)
            #expect(acknowledged.count == 20)
            cluster.member(1).fileSystem.cutPower(afterOperations: cut)
            _ = try? await cluster.engine(1)!.snapshotNow()
            cluster.crash(1)
            try await cluster.start(1)
            let engine = cluster.engine(1)
            #expect(engine?.snapshotIndex == 1 || engine?.snapshotIndex == index, "cut after \(cut) steps")
            _ = await cluster.electLeader()
            await cluster.tick(5)
            expectHolds(acknowledged, in: engine, "cut after \(cut) of \(steps) steps")
            #expect(await cluster.put("after", "crash", on: 1).map { try? $0.get() } == .ok, "cut after \(cut) steps: writable again")
        }
    }

    /// A follower that crashes halfway through receiving a snapshot gets it again after its
    /// restart, from the start, and converges; its half-written file is gone.
    @Test func installSnapshotToAFollowerThatCrashesMidTransfer() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 2) { configuration in
            configuration.snapshotEntryThreshold = 10
            configuration.snapshotChunkSize = 48
        }
        guard let leader = await cluster.electLeader() else { Issue.record("no leader"); return }
        let follower: NodeID = leader == 3 ? 2 : 3
        cluster.crash(follower)
        let acknowledged = await fill(cluster, leader: leader, count: 40)
        #expect(acknowledged.count == 40)
        #expect(cluster.engine(leader)!.snapshotIndex > 10, "the leader compacted its log")

        // Let two chunks through, then crash the follower.
        var chunks = 0
        cluster.filter = { envelope in
            if case .snapshotChunk = envelope, envelope.to == follower { chunks += 1 }
            return true
        }
        try await cluster.start(follower)
        for _ in 0..<100 where chunks < 2 { await cluster.tick() }
        #expect(chunks >= 2, "the transfer started")
        cluster.crash(follower)
        cluster.filter = { _ in true }
        try await cluster.start(follower)
        let temporary = (try? cluster.member(follower).fileSystem.contentsOfDirectory("/node/snapshots")) ?? []
        #expect(!temporary.contains { $0.hasSuffix(".tmp") }, "no partial snapshot after a restart: \(temporary)")
        for _ in 0..<300 {
            await cluster.tick()
            if cluster.engine(follower)!.appliedIndex == cluster.engine(leader)!.commitIndex { break }
        }
        let restarted = cluster.engine(follower)!
        #expect(restarted.appliedIndex == cluster.engine(leader)!.commitIndex)
        #expect(restarted.snapshotIndex > 10, "the follower installed the snapshot")
        #expect(restarted.stateMachine.store.digest == cluster.engine(leader)!.stateMachine.store.digest)
        expectHolds(acknowledged, in: restarted, "follower")
    }

    /// A leader whose fsync fails stops with a typed storage error rather than go on; the
    /// others elect a new leader and lose nothing that was acknowledged.
    @Test func aLeaderWhoseDiskFailsStopsAndTheClusterLosesNothing() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 3)
        guard let leader = await cluster.electLeader() else { Issue.record("no leader"); return }
        let acknowledged = await fill(cluster, leader: leader, count: 10)
        #expect(acknowledged.count == 10)

        cluster.member(leader).fileSystem.failNextSync()
        let failed = await cluster.put("doomed", "x", on: leader, maxTicks: 5)
        guard case .failure(.stopped(cause: .storage)) = failed else {
            Issue.record("the write on the failing disk gave \(String(describing: failed))")
            return
        }
        guard case .storage = cluster.engine(leader)!.failure else {
            Issue.record("the leader did not stop with a storage error: \(String(describing: cluster.engine(leader)!.failure))")
            return
        }
        cluster.crash(leader)
        let next = await cluster.electLeader()
        #expect(next != nil && next != leader, "another node took over")
        guard let next else { return }
        await cluster.tick(5)
        expectHolds(acknowledged, in: cluster.engine(next), "new leader")
        #expect(await cluster.put("after", "failover", on: next).map { try? $0.get() } == .ok)

        try await cluster.start(leader)
        for _ in 0..<200 where cluster.engine(leader)!.appliedIndex < cluster.engine(next)!.commitIndex { await cluster.tick() }
        expectHolds(acknowledged.merging(["after": "failover"]) { $1 }, in: cluster.engine(leader), "restarted old leader")
    }

    /// etcd #14370: a single-node cluster acknowledged writes it had not yet fsynced, and lost
    /// them in a crash. Here a power cut lands at every step of a run of writes; after the
    /// restart every acknowledged write is there.
    @Test func aSingleNodeClusterNeverLosesAnAcknowledgedWrite() async throws {
        for cut in stride(from: 0, through: 60, by: 3) {
            let cluster = try await ScenarioCluster(voters: [1], seed: 4) { $0.snapshotEntryThreshold = 8 }
            _ = await cluster.electLeader()
            cluster.member(1).fileSystem.cutPower(afterOperations: cut)
            var acknowledged: [String: String] = [:]
            for number in 0..<20 {
                guard case .success(.ok) = await cluster.put("k\(number)", "v\(number)", on: 1, maxTicks: 3) else { break }
                acknowledged["k\(number)"] = "v\(number)"
            }
            cluster.crash(1)
            try await cluster.start(1)
            _ = await cluster.electLeader()
            await cluster.tick(3)
            expectHolds(acknowledged, in: cluster.engine(1), "power cut after \(cut) operations")
        }
    }
}
