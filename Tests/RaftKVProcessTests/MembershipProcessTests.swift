import Foundation
import RaftKV
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Membership changes through `raftkv member`, and a paused leader, on real processes under
/// the same recorded load as ``ServeProcessTests``.
@Suite(.serialized, .timeLimit(.minutes(4))) struct MembershipProcessTests {
    /// Acknowledged writes the load must make after each change for the history to mean something.
    static let requiredProgress = 40

    /// Waits until the load has acknowledged `count` more writes than `base`, within 60 s.
    static func awaitProgress(_ history: RecordedHistory, beyond base: Int, count: Int = requiredProgress) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if history.acknowledgedWrites.load(ordering: .relaxed) >= base + count { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// `raftkv member list`'s lines, as sent through member `id`.
    static func listedMembers(_ cluster: ServerCluster, via id: Int) async throws -> [String] {
        let listed = try await cluster.member(["list"], via: id, timeout: .seconds(20))
        #expect(listed.status == 0, "member list: \(listed.output)")
        return listed.output.split(whereSeparator: \.isNewline).map(String.init)
    }

    @Test func aJoinedNodeIsAddedAndPromotedAndAnOldOneRemovedUnderLoadAndTheHistoryStaysLinearizable() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let first = try #require(await cluster.leader(), "a leader is elected; logs:\n\(cluster.log(of: 1))")
        let follower = try #require(cluster.founders.first { $0 != first })
        #expect(await cluster.followersKnow(first, ids: [follower]))
        try cluster.addJoiner(4)
        try cluster.start(4)
        let joiner = cluster.members[4]!

        let history = RecordedHistory()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<4 {
                group.addTask { await ServeProcessTests.runClient(number, cluster: cluster, history: history) }
            }
            #expect(try await Self.awaitProgress(history, beyond: 0), "the load runs before the change")

            // Asked of a follower, which points the command at the leader.
            let added = try await cluster.member(
                ["add", "4=127.0.0.1:\(joiner.peerPort)", "--client", "127.0.0.1:\(joiner.clientPort)"], via: follower)
            #expect(added.status == 0, "member add: \(added.output)\nnode 4's log:\n\(cluster.log(of: 4))")
            let afterAdd = try await Self.listedMembers(cluster, via: 4)
            #expect(afterAdd.contains("4 voter 127.0.0.1:\(joiner.peerPort) 127.0.0.1:\(joiner.clientPort)"), "\(afterAdd)")
            #expect(afterAdd.count == 4 && afterAdd.allSatisfy { $0.contains(" voter ") }, "\(afterAdd)")
            cluster.servingIDs = [1, 2, 3, 4]
            let base = history.acknowledgedWrites.load(ordering: .relaxed)
            #expect(try await Self.awaitProgress(history, beyond: base), "the load goes on with four voters")

            // Remove a founder that does not lead, asking the one removed.
            let leader = try #require(await cluster.leader(among: [1, 2, 3, 4]))
            let removed = try #require(cluster.founders.first { $0 != leader })
            cluster.servingIDs = [1, 2, 3, 4].filter { $0 != removed }
            let removal = try await cluster.member(["remove", "\(removed)"], via: removed)
            #expect(removal.status == 0, "member remove: \(removal.output)")
            cluster.signal(removed, SIGKILL)
            let afterRemove = try await Self.listedMembers(cluster, via: 4)
            #expect(afterRemove.count == 3 && !afterRemove.contains { $0.hasPrefix("\(removed) ") }, "\(afterRemove)")

            // The joined node restarts from its own storage with a --peers that names only the
            // removed node: it finds the others from the member records it applied.
            cluster.signal(4, SIGKILL)
            try cluster.start(4, peers: "\(removed)=127.0.0.1:\(cluster.members[removed]!.peerPort)")
            let resumed = history.acknowledgedWrites.load(ordering: .relaxed)
            #expect(try await Self.awaitProgress(history, beyond: resumed), "the load goes on without node \(removed)")
            history.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }

        let leader = try #require(await cluster.leader(among: cluster.servingIDs))
        let reader = try await cluster.client(leader)
        try await ServeProcessTests.recordFinalReads(through: reader, history: history)
        let four = try await cluster.client(4)
        #expect(try await four.send(["SET", "after-restart", "1"]) == .ok, "the restarted joiner takes writes")
        #expect(try await four.send(["GET", "after-restart"]) == .bulk("1"))
        await four.close()
        await reader.close()
        let result = LinearizabilityChecker().check(history.operations.withLock { $0 })
        #expect(result == .linearizable, "\(result)")
    }

    @Test func memberCommandErrorsAreOneLineWithANonZeroExit() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let leader = try #require(await cluster.leader())

        let malformed = try await cluster.member(["add", "4=nowhere", "--client", "127.0.0.1:1"], via: leader)
        #expect(malformed.status == 2, "\(malformed.output)")
        let unknown = try await cluster.member(["remove", "99"], via: leader)
        #expect(unknown.status == 1 && unknown.output.contains("ERR node 99 is not a member"), "\(unknown.output)")
        let taken = try await cluster.member(
            ["add", "4=127.0.0.1:\(cluster.members[1]!.peerPort)", "--client", "127.0.0.1:1"], via: leader)
        #expect(taken.status == 1 && taken.output.contains("already listens on"), "\(taken.output)")
        for outcome in [malformed, unknown, taken] {
            #expect(outcome.output.split(whereSeparator: \.isNewline).count == 1, "one line: \(outcome.output)")
        }
        let listed = try await Self.listedMembers(cluster, via: leader)
        #expect(listed.count == 3, "nothing was changed: \(listed)")
    }

    @Test func aLeaderPausedPastTheElectionTimeoutStepsDownOnResumingAndServesNoStaleRead() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let paused = try #require(await cluster.leader())
        let others = cluster.founders.filter { $0 != paused }
        #expect(await cluster.followersKnow(paused, ids: others))

        let history = RecordedHistory()
        var resumedReads = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<3 {
                group.addTask { await ServeProcessTests.runClient(number, cluster: cluster, history: history) }
            }
            #expect(try await Self.awaitProgress(history, beyond: 0), "the load runs before the pause")
            // Connected before the pause, so that its reads reach the node the moment it resumes,
            // while it may still believe it leads.
            let reader = try await cluster.client(paused, timeout: .seconds(10))
            cluster.signal(paused, SIGSTOP)
            let successor = try #require(await cluster.leader(among: others), "the others elect a leader")
            // New values the paused node has not seen: a stale read would return an older one.
            let writer = try await cluster.client(successor)
            for key in ServeProcessTests.registerKeys {
                let value = "after-pause-\(key)"
                let invokedAt = history.now
                let reply = try await writer.send(["SET", key, value])
                #expect(reply == .ok, "\(reply)")
                history.record(HistoryOperation(
                    client: 100, command: .put(key: key, value: Array(value.utf8)), invokedAt: invokedAt,
                    outcome: reply == .ok ? .completed(.ok, at: history.now) : .unknown))
            }
            await writer.close()
            cluster.signal(paused, SIGCONT)

            let deadline = ContinuousClock.now + .seconds(10)
            for round in 0..<400 where ContinuousClock.now < deadline {
                let key = ServeProcessTests.registerKeys[round % ServeProcessTests.registerKeys.count]
                let invokedAt = history.now
                guard let reply = try? await reader.send(["GET", key]) else { break }
                let value: [UInt8]? =
                    switch reply {
                    case .bulkString(let bytes): bytes
                    case .null: nil
                    default: nil
                    }
                guard reply == .null || value != nil else { continue }
                resumedReads += 1
                history.record(HistoryOperation(client: 101, command: .get(key: key), invokedAt: invokedAt, outcome: .completed(.value(value), at: history.now)))
            }
            await reader.close()

            var steppedDown = false
            var info: [String: String]?
            for _ in 0..<100 where !steppedDown {
                info = await cluster.info(paused)
                steppedDown = info?["role"] != "leader" && info?["leader_id"].map { $0 != "0" && $0 != "\(paused)" } == true
                if !steppedDown { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(steppedDown, "node \(paused) follows after resuming: \(info ?? [:])")
            let base = history.acknowledgedWrites.load(ordering: .relaxed)
            #expect(try await Self.awaitProgress(history, beyond: base), "the load goes on after the pause")
            history.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }

        #expect(resumedReads > 0, "the resumed node served reads")
        let leader = try #require(await cluster.leader())
        let reader = try await cluster.client(leader)
        try await ServeProcessTests.recordFinalReads(through: reader, history: history)
        await reader.close()
        let result = LinearizabilityChecker().check(history.operations.withLock { $0 })
        #expect(result == .linearizable, "\(result)")
    }
}
