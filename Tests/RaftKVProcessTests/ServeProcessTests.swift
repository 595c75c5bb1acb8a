import Foundation
import RaftKV
import RaftSimulation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client history, recorded as operations finish.
final class RecordedHistory: Sendable {
    struct Increment: Sendable {
        var invokedAt: UInt64
        var completedAt: UInt64?
        var result: Int64?
    }

    let operations = Mutex<[HistoryOperation]>([])
    let increments = Mutex<[String: [Increment]]>([:])
    let acknowledgedWrites = Atomic<Int>(0)
    let stopped = Atomic<Bool>(false)
    let start = ContinuousClock.now

    var now: UInt64 {
        let elapsed = ContinuousClock.now - start
        return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
    }

    func record(_ operation: HistoryOperation) {
        operations.withLock { $0.append(operation) }
    }
}

/// `raftkv serve` as real processes: three of them on loopback, killed and restarted.
@Suite(.serialized, .timeLimit(.minutes(8))) struct ServeProcessTests {
    static let registerKeys = (0..<4).map { "k\($0)" }
    static let counterKeys = ["c0", "c1"]
    /// Acknowledged writes the kill-and-restart load must reach for its history to mean something.
    static let requiredProgress = 100

    /// One client of the load: random commands against random nodes, every outcome recorded.
    static func runClient(_ number: Int, cluster: ServerCluster, history: RecordedHistory) async {
        var random = SystemRandomNumberGenerator()
        var client: RESPClient?
        var sequence = 0
        var lastSeen: [String: String] = [:]
        var operations = 0
        while !history.stopped.load(ordering: .relaxed), operations < 20_000 {
            operations += 1
            if client == nil {
                client = try? await cluster.client(cluster.servingIDs.randomElement(using: &random)!, timeout: .seconds(4))
                if client == nil {
                    try? await Task.sleep(for: .milliseconds(50))
                    continue
                }
            }
            sequence += 1
            let key = registerKeys.randomElement(using: &random)!
            let value = "v\(number)-\(sequence)"
            let command: KVCommand
            let arguments: [String]
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40:
                command = .put(key: key, value: Array(value.utf8))
                arguments = ["SET", key, value]
            case 40..<70:
                command = .get(key: key)
                arguments = ["GET", key]
            case 70..<85:
                let expected = lastSeen[key] ?? "none"
                command = .compareAndSet(key: key, expected: Array(expected.utf8), new: Array(value.utf8))
                arguments = ["CAS", key, expected, value]
            default:
                let counter = counterKeys.randomElement(using: &random)!
                let invokedAt = history.now
                let index = history.increments.withLock { all in
                    all[counter, default: []].append(RecordedHistory.Increment(invokedAt: invokedAt))
                    return all[counter]!.count - 1
                }
                if case .integer(let result) = try? await client!.send(["INCR", counter]) {
                    let completedAt = history.now
                    history.increments.withLock { $0[counter]![index].completedAt = completedAt; $0[counter]![index].result = result }
                } else {
                    await client?.close()
                    client = nil
                }
                continue
            }
            let invokedAt = history.now
            let reply: RESPValue
            do {
                reply = try await client!.send(arguments)
            } catch {
                if !command.isReadOnly {
                    history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .unknown))
                }
                await client?.close()
                client = nil
                continue
            }
            let completedAt = history.now
            if case .error(let message) = reply {
                // Certainly not executed: left out. Anything else: it may have happened.
                let refused = message.hasPrefix("TRYAGAIN") || message.hasPrefix("NOLEADER")
                if !refused, !command.isReadOnly {
                    history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .unknown))
                }
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            switch (command, reply) {
            case (.put, .simpleString("OK")):
                history.acknowledgedWrites.add(1, ordering: .relaxed)
                history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .completed(.ok, at: completedAt)))
            case (.get, .bulkString(let bytes)):
                lastSeen[key] = String(decoding: bytes, as: UTF8.self)
                history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .completed(.value(bytes), at: completedAt)))
            case (.get, .null):
                history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .completed(.value(nil), at: completedAt)))
            case (.compareAndSet, .integer(1)):
                history.acknowledgedWrites.add(1, ordering: .relaxed)
                history.record(HistoryOperation(client: number, command: command, invokedAt: invokedAt, outcome: .completed(.ok, at: completedAt)))
            case (.compareAndSet, .integer(0)):
                // A failed CAS changes nothing and its reply does not say what it found:
                // leaving it out loses no write.
                break
            default:
                Issue.record("unexpected reply \(reply) to \(arguments)")
            }
        }
        await client?.close()
    }

    /// Reads every register key through `reader` (connected to the leader) and records the
    /// reads, so that the checker sees what the load's last writes left.
    static func recordFinalReads(through reader: RESPClient, history: RecordedHistory) async throws {
        for key in registerKeys {
            let invokedAt = history.now
            let reply = try await reader.send(["GET", key])
            let value: [UInt8]? = if case .bulkString(let bytes) = reply { bytes } else { nil }
            #expect(reply == .null || value != nil, "final read of \(key): \(reply)")
            history.record(HistoryOperation(client: -1, command: .get(key: key), invokedAt: invokedAt, outcome: .completed(.value(value), at: history.now)))
        }
    }

    @Test func killAndRestartLeadersAndFollowersUnderLoadLosesNoAcknowledgedWriteAndStaysLinearizable() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let first = await cluster.leader()
        try #require(first != nil, "a leader is elected; logs:\n\(cluster.log(of: 1))")

        let history = RecordedHistory()
        // Thirty kills per run, leaders and followers alternately: about a minute alone, two or
        // three on two cores shared with the rest of the suite.
        let cycles = 30
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<4 {
                group.addTask { await Self.runClient(number, cluster: cluster, history: history) }
            }
            for cycle in 0..<cycles {
                try await Task.sleep(for: .milliseconds(400))
                guard let leader = await cluster.leader() else {
                    Issue.record("no leader before cycle \(cycle)")
                    break
                }
                let victim = cycle % 2 == 0 ? leader : cluster.members.keys.sorted().first { $0 != leader }!
                cluster.signal(victim, SIGKILL)
                try await Task.sleep(for: .milliseconds(300))
                try cluster.start(victim)
                #expect(await cluster.leader() != nil, "cycle \(cycle): the cluster elects a leader again")
            }
            // The cycles above take a fixed time, and on two cores shared with the rest of the
            // suite they can leave little room for the load: let it run on, unharmed, until it has
            // made the progress asserted below (bounded in time, so a stalled cluster still fails).
            let deadline = ContinuousClock.now + .seconds(60)
            repeat {
                try await Task.sleep(for: .milliseconds(500))
            } while history.acknowledgedWrites.load(ordering: .relaxed) <= Self.requiredProgress && ContinuousClock.now < deadline
            history.stopped.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }

        let leader = try #require(await cluster.leader())
        let reader = try await cluster.client(leader)
        try await Self.recordFinalReads(through: reader, history: history)
        var finalCounters: [String: Int64] = [:]
        for key in Self.counterKeys {
            let reply = try await reader.send(["GET", key])
            finalCounters[key] = reply.text.flatMap { Int64($0) } ?? 0
        }
        await reader.close()

        let operations = history.operations.withLock { $0 }
        #expect(history.acknowledgedWrites.load(ordering: .relaxed) > Self.requiredProgress, "the load made progress")
        let result = LinearizabilityChecker().check(operations)
        #expect(result == .linearizable, "\(result)")

        // Counters: every acknowledged increment is counted once, none invented, in real-time order.
        for key in Self.counterKeys {
            let increments = history.increments.withLock { $0[key] ?? [] }
            let acknowledged = increments.filter { $0.result != nil }
            let results = acknowledged.map { $0.result! }
            #expect(Set(results).count == results.count, "\(key): two increments got the same result")
            let final = finalCounters[key] ?? 0
            #expect(final >= (results.max() ?? 0), "\(key): an acknowledged increment is missing")
            #expect(final <= Int64(increments.count), "\(key): more increments applied than sent")
            for a in acknowledged {
                for b in acknowledged where a.completedAt! < b.invokedAt {
                    #expect(a.result! < b.result!, "\(key): an increment after another saw a smaller count")
                }
            }
        }
    }

    @Test func aNodeWithTheWrongClusterSecretIsRefusedWhileTheOthersServe() async throws {
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.setSecret("not the cluster's secret", for: 3)
        try cluster.startAll()
        let leader = try #require(await cluster.leader(among: [1, 2]))
        let client = try await cluster.client(leader)
        #expect(try await client.send(["SET", "a", "1"]) == .ok)
        #expect(try await client.send(["GET", "a"]) == .bulk("1"))
        await client.close()
        let outsider = await cluster.info(3)
        #expect(outsider?["leader_id"] == "0", "node 3 never hears a leader: \(outsider ?? [:])")
        var refused = false
        for _ in 0..<100 where !refused {
            refused = [1, 2, 3].contains { cluster.log(of: $0).contains("refused a peer connection") }
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(refused, "a refusal is logged; node 1's log:\n\(cluster.log(of: 1))")
    }

    @Test func redisCLISetsGetsAndReadsINFO() async throws {
        let candidates = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"]
        guard let redisCLI = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("redis-cli is not installed, and CI=true requires it (apt-get install -y redis-tools)")
            }
            return
        }
        let cluster = try ServerCluster(ids: [1, 2, 3])
        defer { cluster.remove() }
        try cluster.startAll()
        let leader = try #require(await cluster.leader())
        let follower = cluster.members.keys.sorted().first { $0 != leader }!
        #expect(await cluster.followersKnow(leader, ids: [follower]))
        func run(_ id: Int, _ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: redisCLI)
            process.arguments = ["-h", "127.0.0.1", "-p", "\(cluster.members[id]!.clientPort)"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try run(follower, ["SET", "greeting", "hello"]) == "OK", "a follower forwards the write")
        #expect(try run(leader, ["GET", "greeting"]) == "hello")
        #expect(try run(follower, ["-3", "GET", "greeting"]) == "hello")
        let info = try run(leader, ["INFO", "replication"])
        #expect(info.contains("role:leader") && info.contains("leader_id:\(leader)"), "\(info)")
    }
}
