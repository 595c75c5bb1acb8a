import Logging
import Raft
import RaftCore
import RaftKV
import Synchronization
import Testing

/// A single-node backend in memory: proposals apply at once; it counts what it was asked.
final class MemoryBackend: KVBackend {
    let machine = Mutex(KVStateMachine())
    let proposals = Atomic<Int>(0)
    let reads = Atomic<Int>(0)
    let failure = Mutex<RaftNodeError?>(nil)
    var status: RaftNodeStatus? { nil }
    var leaderID: NodeID? { 1 }

    func propose(_ command: [UInt8]) async throws(RaftNodeError) -> KVResult {
        proposals.add(1, ordering: .relaxed)
        if let failure = failure.withLock({ $0 }) { throw failure }
        do {
            return try machine.withLock { try $0.apply([CommittedCommand(index: 1, term: 1, data: command)])[0] }
        } catch {
            throw .stateMachineFailed("\(error)")
        }
    }

    func read<Result: Sendable>(_ query: @escaping @Sendable (KVStateMachine) -> Result) async throws(RaftNodeError) -> Result {
        reads.add(1, ordering: .relaxed)
        return machine.withLock { query($0) }
    }

    let snapshots = Atomic<Int>(0)

    func snapshot() async throws(RaftNodeError) -> UInt64 {
        if let failure = failure.withLock({ $0 }) { throw failure }
        return UInt64(snapshots.add(1, ordering: .relaxed).newValue) * 10
    }

    func addLearner(_ member: NodeID) async throws(RaftNodeError) { throw .notLeader(leader: nil) }
    func promoteLearner(_ member: NodeID) async throws(RaftNodeError) { throw .notLeader(leader: nil) }
    func removeMember(_ member: NodeID) async throws(RaftNodeError) { throw .notLeader(leader: nil) }
}

@Suite struct CommandProcessorTests {
    let backend = MemoryBackend()

    func processor(password: String? = nil) -> CommandProcessor {
        CommandProcessor(
            backend: backend,
            identity: .init(id: 1, clusterID: "00", addresses: .init(peer: "127.0.0.1:1", client: "127.0.0.1:2")),
            password: password.map { Array($0.utf8) }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func run(_ processor: CommandProcessor, _ commands: [[String]], session: inout ClientSession) async -> [RESPValue] {
        await processor.execute(commands.map { $0.map { Array($0.utf8) } }, session: &session)
    }

    @Test func digestNamesTheStoreAndSnapshotAsksTheNode() async {
        let processor = processor()
        var session = processor.makeSession()
        let before = await run(processor, [["RAFTKV.DIGEST"]], session: &session)
        let after = await run(processor, [["SET", "k", "1"], ["RAFTKV.DIGEST"], ["RAFTKV.SNAPSHOT"]], session: &session)
        #expect(after[2] == .integer(10), "the snapshot's index, as the node answered it")
        #expect(backend.snapshots.load(ordering: .relaxed) == 1)
        guard case .array(let empty) = before[0], case .array(let written) = after[1], empty.count == 2, written.count == 2 else {
            Issue.record("DIGEST answers [digest, key count]: \(before) \(after)")
            return
        }
        #expect(empty[1] == .integer(0) && written[1] == .integer(1))
        #expect(empty[0] != written[0], "a write changes the digest")

        let replica = MemoryBackend()
        let other = CommandProcessor(
            backend: replica, identity: .init(id: 1, clusterID: "00", addresses: .init(peer: "127.0.0.1:3", client: "127.0.0.1:4")),
            password: nil, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        var otherSession = other.makeSession()
        let same = await run(other, [["SET", "k", "1"], ["RAFTKV.DIGEST"]], session: &otherSession)
        #expect(same[1] == after[1], "replicas with the same contents have the same digest")

        backend.failure.withLock { $0 = .shutDown }
        let failed = await run(processor, [["RAFTKV.SNAPSHOT"]], session: &session)
        #expect(failed[0].isError, "a failed snapshot is an error reply: \(failed)")
    }

    @Test func aPipelineRunsInOrderWithOneProposalPerRunOfWritesAndOneReadPerRunOfReads() async {
        let processor = processor()
        var session = processor.makeSession()
        let replies = await run(processor, [
            ["SET", "k", "1"], ["INCR", "n"], ["GET", "k"], ["MGET", "k", "n", "missing"],
            ["APPEND", "k", "23"], ["INCRBY", "n", "10"], ["DECR", "n"], ["GET", "k"], ["STRLEN", "k"],
        ], session: &session)
        #expect(replies == [
            .ok, .integer(1), .bulk("1"), .array([.bulk("1"), .bulk("1"), .null]),
            .integer(3), .integer(11), .integer(10), .bulk("123"), .integer(3),
        ])
        #expect(backend.proposals.load(ordering: .relaxed) == 2, "two runs of writes, two proposals")
        #expect(backend.reads.load(ordering: .relaxed) == 2, "two runs of reads, two ReadIndex rounds")
    }

    @Test func setOptionsCASAndDeleteAnswerAsRedisDoes() async {
        let processor = processor()
        var session = processor.makeSession()
        let replies = await run(processor, [
            ["SET", "a", "x", "NX"], ["SET", "a", "y", "NX"], ["SET", "b", "y", "XX"], ["SET", "a", "z", "GET"],
            ["CAS", "a", "wrong", "q"], ["CAS", "a", "z", "q"], ["CAS", "missing", "x", "q"], ["GETSET", "a", "r"],
            ["MSET", "m1", "1", "m2", "2"], ["DEL", "a", "m1", "nothing"], ["EXISTS", "a", "m2", "m2"], ["DBSIZE"],
        ], session: &session)
        #expect(replies == [
            .ok, .null, .null, .bulk("x"), .integer(0), .integer(1), .integer(0), .bulk("q"), .ok, .integer(2),
            .integer(2), .integer(1),
        ])
    }

    @Test func errorsUseRedisWordings() async {
        let processor = processor()
        var session = processor.makeSession()
        let replies = await run(processor, [
            ["FLY", "away"], ["GET"], ["SET", "s", "abc"], ["INCR", "s"], ["SET", "big", "9223372036854775807"],
            ["INCR", "big"], ["SET", "k", "v", "EX", "10"], ["SELECT", "1"], ["SELECT", "0"],
        ], session: &session)
        #expect(replies == [
            .error("ERR unknown command 'fly', with args beginning with: 'away' "),
            .error("ERR wrong number of arguments for 'get' command"), .ok,
            .error("ERR value is not an integer or out of range"), .ok,
            .error("ERR increment or decrement would overflow"), .error("ERR syntax error"),
            .error("ERR DB index is out of range"), .ok,
        ])
    }

    @Test func authIsRequiredWhenAPasswordIsSet() async {
        let processor = processor(password: "sesame")
        var session = processor.makeSession()
        let replies = await run(processor, [
            ["GET", "k"], ["AUTH", "wrong"], ["GET", "k"], ["AUTH", "sesame"], ["GET", "k"],
        ], session: &session)
        #expect(replies == [
            .error("NOAUTH Authentication required."),
            .error("WRONGPASS invalid username-password pair or user is disabled."),
            .error("NOAUTH Authentication required."), .ok, .null,
        ])
        #expect(backend.reads.load(ordering: .relaxed) == 1, "no read ran before AUTH")
    }

    @Test func aFailedWriteSaysWhetherItMayHaveHappened() async {
        let processor = processor()
        var session = processor.makeSession()
        backend.failure.withLock { $0 = .overloaded }
        let refused = await run(processor, [["SET", "k", "v"]], session: &session)
        #expect(refused.first?.isError == true && refused.first?.errorCode == "TRYAGAIN", "\(refused)")
        backend.failure.withLock { $0 = .leadershipLost(index: 7) }
        let unknown = await run(processor, [["SET", "k", "v"], ["INCR", "n"]], session: &session)
        #expect(unknown.count == 2 && unknown.allSatisfy { $0.errorCode == "UNKNOWNOUTCOME" }, "\(unknown)")
    }

    @Test func helloThreeSwitchesToRESP3AndINFOHasAReplicationSection() async {
        let processor = processor()
        var session = processor.makeSession()
        let replies = await run(processor, [["HELLO", "3"], ["INFO"]], session: &session)
        #expect(session.version == .resp3)
        guard case .map(let fields) = replies.first else { return #expect(Bool(false), "HELLO answers a map") }
        #expect(fields.contains(.bulk("proto")) && fields.contains(.integer(3)))
        let info = replies.last?.text ?? ""
        for field in ["# Replication", "role:", "leader_id:", "leader_client_addr:", "term:", "commit_index:", "applied_index:", "cluster_id:"] {
            #expect(info.contains(field), "INFO has \(field)")
        }
    }
}

extension RESPValue {
    /// An error reply's code: its first word.
    var errorCode: String? {
        guard case .error(let message) = self else { return nil }
        return message.split(separator: " ").first.map(String.init)
    }
}
