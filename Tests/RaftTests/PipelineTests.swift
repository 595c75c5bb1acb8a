import Raft
import RaftCore
import RaftSimulation
import Testing
import WAL

/// The pipelined runtime's interleavings: writes in flight while inputs keep arriving, and
/// the persistence contract's clauses across them.
@Suite struct PipelineTests {
    final class Results<Value> {
        var values: [Value] = []
    }

    private func put(_ key: String) -> [UInt8] {
        KVCommand.put(key: key, value: Array(key.utf8)).encoded()
    }

    /// Clause 2: the leader counts itself toward the commit quorum only once its own write is
    /// durable. With one of two followers down, the quorum needs the leader.
    @Test func aLeadersOwnAcknowledgementCountsOnlyOnceItsBatchIsDurable() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 11)
        let leader = try #require(await cluster.electLeader())
        let down: NodeID = leader == 3 ? 2 : 3
        cluster.crash(down)
        cluster.holdsWrites = [leader]
        let results = Results<Result<KVResult, RaftNodeError>>()
        let engine = try #require(cluster.engine(leader))
        let commitBefore = engine.commitIndex
        await engine.propose(put("held")) { results.values.append($0) }
        await cluster.deliverAll()
        #expect(engine.heldWriteCount > 0, "the leader's write is in flight")
        #expect(engine.commitIndex == commitBefore, "committed with the leader's unpersisted entry counted")
        #expect(results.values.isEmpty, "answered before the entry was durable on a quorum")
        await engine.releaseHeldWrites()
        await cluster.deliverAll()
        #expect(engine.commitIndex > commitBefore)
        #expect(results.values.count == 1)
        if case .success(.ok) = results.values.first {} else { Issue.record("the put failed: \(results.values)") }
    }

    /// A crash with a batch in flight loses that batch and nothing acknowledged: the leader
    /// answered nobody for it, and the cluster continues with what a quorum holds.
    @Test func aCrashWithABatchInFlightLosesNothingAcknowledged() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 12)
        let leader = try #require(await cluster.electLeader())
        var acknowledged: [String] = []
        for number in 0..<5 {
            if case .success(.ok) = await cluster.put("a\(number)", "a\(number)", on: leader) {
                acknowledged.append("a\(number)")
            }
        }
        #expect(acknowledged.count == 5)
        cluster.holdsWrites = [leader]
        let results = Results<Result<KVResult, RaftNodeError>>()
        let engine = try #require(cluster.engine(leader))
        await engine.propose(put("in-flight")) { results.values.append($0) }
        #expect(engine.heldWriteCount > 0)
        // Its appends are lost on the way too, so the batch exists only in the leader's pipeline.
        cluster.queue.envelopes = []
        cluster.crash(leader)
        cluster.holdsWrites = []
        try await cluster.start(leader)
        #expect(results.values.isEmpty, "nobody was told the lost batch succeeded")
        let next = try #require(await cluster.electLeader())
        await cluster.tick(10)
        for key in acknowledged {
            #expect(cluster.engine(next)?.stateMachine.store[key] == Array(key.utf8), "acknowledged \(key) lost")
        }
        #expect(cluster.engine(next)?.stateMachine.store["in-flight"] == nil, "a write nobody persisted appeared")
    }

    /// Clause 1 across the pipeline: a follower whose entries are still being written grants a
    /// vote only once the term and vote are durable, and not before the earlier batch is.
    @Test func aVoteGrantWaitsForTheVoteAndEarlierBatchesToBeDurable() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 13)
        let leader = try #require(await cluster.electLeader())
        let voter: NodeID = leader == 1 ? 2 : 1
        let candidate: NodeID = 6 - leader - voter
        // The voter holds its next writes: the leader's entries reach it and stay in flight.
        cluster.holdsWrites = [voter]
        let engine = try #require(cluster.engine(leader))
        await engine.propose(put("pending")) { _ in }
        await cluster.deliverAll()
        let voterEngine = try #require(cluster.engine(voter))
        #expect(voterEngine.heldWriteCount > 0, "the voter's append is in flight")
        // The voter loses touch with the leader (so it may vote again), and a candidate with
        // the same log asks for its vote at a higher term.
        cluster.filter = { _ in false }
        for _ in 0..<15 { await voterEngine.tick() }
        cluster.queue.envelopes = []
        let candidateEngine = try #require(cluster.engine(candidate))
        let lastIndex = candidateEngine.lastIndex
        let request = Message(
            kind: .vote, from: candidate, to: voter, term: voterEngine.term + 1,
            logTerm: try #require(candidateEngine.storedTerm(at: lastIndex)), index: lastIndex)
        await voterEngine.receive(.raft(request))
        #expect(!cluster.queue.envelopes.contains(where: Self.isVoteGrant), "granted before the vote was durable")
        await voterEngine.releaseHeldWrites()
        #expect(cluster.queue.envelopes.contains(where: Self.isVoteGrant), "no grant once durable")
        // And the vote is on disk: a restart remembers it.
        cluster.crash(voter)
        cluster.holdsWrites = []
        try await cluster.start(voter)
        #expect(cluster.engine(voter)?.status.raft.hardState.vote == candidate)
    }

    /// A leader that learns of a higher term while its own batch is in flight steps down at
    /// once: its waiting proposals fail then (outcome unknown), not when the write finishes;
    /// and the late write does not confuse it.
    @Test func aTermChangeMidFlightFailsWaitingProposalsAtOnce() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 14)
        let leader = try #require(await cluster.electLeader())
        cluster.holdsWrites = [leader]
        cluster.filter = { _ in false }
        let results = Results<Result<KVResult, RaftNodeError>>()
        let engine = try #require(cluster.engine(leader))
        await engine.propose(put("doomed")) { results.values.append($0) }
        #expect(engine.heldWriteCount > 0)
        let higher = Message(kind: .heartbeat, from: leader == 1 ? 2 : 1, to: leader, term: engine.term + 5)
        await engine.receive(.raft(higher))
        #expect(engine.role == .follower)
        guard case .failure(.leadershipLost) = results.values.first else {
            Issue.record("the proposal was not failed at the step-down: \(results.values)")
            return
        }
        await engine.releaseHeldWrites()
        #expect(engine.invariantViolations == 0)
        cluster.filter = { _ in true }
        cluster.holdsWrites = []
        _ = await cluster.electLeader()
        await cluster.tick(20)
        let leaderNow = try #require(cluster.leader)
        let commit = try #require(cluster.engine(leaderNow)?.commitIndex)
        for id in [1, 2, 3] as [NodeID] {
            #expect(cluster.engine(id)?.appliedIndex == commit, "n\(id) did not converge")
        }
    }

    /// Item 6: a check-quorum step-down (which produces no `Ready` of its own) fails waiting
    /// proposals on that very tick.
    @Test func aCheckQuorumStepDownFailsWaitingProposalsOnThatTick() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 15)
        let leader = try #require(await cluster.electLeader())
        cluster.filter = { _ in false }
        let results = Results<Result<KVResult, RaftNodeError>>()
        let engine = try #require(cluster.engine(leader))
        await engine.propose(put("cut off")) { results.values.append($0) }
        var ticks = 0
        while engine.role == .leader && ticks < 100 {
            await engine.tick()
            ticks += 1
        }
        #expect(engine.role != .leader, "check-quorum deposed the isolated leader")
        guard case .failure(.leadershipLost) = results.values.first else {
            Issue.record("the proposal still waits after the step-down: \(results.values)")
            return
        }
    }

    /// Reads that arrive together share one ReadIndex round: one heartbeat per follower.
    @Test func readsThatArriveTogetherShareOneRound() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 16)
        let leader = try #require(await cluster.electLeader())
        await cluster.tick(3)
        let engine = try #require(cluster.engine(leader))
        cluster.queue.envelopes = []
        let done = Results<Result<Void, RaftNodeError>>()
        await engine.read(batch: (0..<32).map { _ in { done.values.append($0) } })
        let heartbeats = cluster.queue.envelopes.filter {
            if case .raft(let message) = $0, message.kind == .heartbeat { return true }
            return false
        }
        #expect(heartbeats.count == 2, "\(heartbeats.count) heartbeats for one round of 32 reads")
        await cluster.deliverAll()
        #expect(done.values.count == 32)
        #expect(done.values.allSatisfy { if case .success = $0 { true } else { false } })
    }

    /// A follower's read waits for its leader's confirmation; when the leader is gone and a
    /// new term begins, that confirmation can never come, so the read fails at once with a
    /// retryable error instead of holding its caller for the whole read timeout.
    @Test func aReadWaitingOnALostLeaderFailsWhenTheTermChanges() async throws {
        let cluster = try await ScenarioCluster(voters: [1, 2, 3], seed: 17) { $0.readTimeoutTicks = 10_000 }
        let leader = try #require(await cluster.electLeader())
        #expect(await cluster.put("k", "v", on: leader) != nil)
        let follower = try #require([NodeID(1), 2, 3].first { $0 != leader })
        let oldTerm = try #require(cluster.engine(follower)?.term)
        cluster.crash(leader)

        let done = Results<Result<Void, RaftNodeError>>()
        await cluster.engine(follower)!.read { done.values.append($0) }
        await cluster.deliverAll()
        #expect(done.values.isEmpty, "the read waits for the leader it asked")

        var ticks = 0
        while done.values.isEmpty, ticks < 300 {
            await cluster.tick()
            ticks += 1
        }
        let failure = try #require(done.values.first, "the read still waits after \(ticks) ticks")
        guard case .failure(.leaderChanged) = failure else {
            Issue.record("the read fails with leaderChanged, not \(failure)")
            return
        }
        #expect((cluster.engine(follower)?.term ?? 0) > oldTerm, "it failed because a new term began")
    }

    private static func isVoteGrant(_ envelope: Envelope) -> Bool {
        if case .raft(let message) = envelope { return message.kind == .voteResponse && !message.reject }
        return false
    }
}
