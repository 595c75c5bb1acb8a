import Logging
import Raft
import RaftCore
import Synchronization

/// Turns clients' commands into replies: answers what needs no log at once, replicates writes
/// (forwarding them to the leader from a follower), and runs reads at a linearizable point.
///
/// A pipeline is executed in order in runs: consecutive writes go to the log as one entry
/// (one ``KVCommand/batch(_:)``), consecutive reads share one ReadIndex round, so a read
/// always sees the writes sent before it on its connection.
public final class CommandProcessor: Sendable {
    /// What identifies this node in `INFO`.
    public struct Identity: Sendable {
        /// The node's id.
        public var id: UInt64
        /// The cluster's id, as hexadecimal digits.
        public var clusterID: String
        /// Where this node listens for peers and clients.
        public var addresses: MemberDirectory.Addresses

        /// Creates an identity.
        public init(id: UInt64, clusterID: String, addresses: MemberDirectory.Addresses) {
            self.id = id
            self.clusterID = clusterID
            self.addresses = addresses
        }
    }

    private let backend: any KVBackend
    private let identity: Identity
    private let password: [UInt8]?
    private let forwarder: LeaderForwarder
    private let membership: MembershipAdministrator
    private let members = Mutex<[UInt64: MemberDirectory.Addresses]>([:])
    private let nextClientID = Atomic<Int64>(1)
    private let logger: Logger

    /// Creates a processor.
    /// - Parameters:
    ///   - backend: The node the commands go to.
    ///   - identity: This node's id, cluster and addresses.
    ///   - password: The password clients must `AUTH` with, if any.
    ///   - forwardTimeout: How long a forwarded write waits for the leader.
    ///   - catchUpTimeout: How long `RAFTKV.MEMBER ADD` waits for a new learner to catch up
    ///     before it gives up on promoting it.
    ///   - logger: Where the processor reports.
    public init(
        backend: any KVBackend, identity: Identity, password: [UInt8]?, forwardTimeout: Duration = .seconds(10),
        catchUpTimeout: Duration = .seconds(30), logger: Logger
    ) {
        self.backend = backend
        self.identity = identity
        self.password = password
        self.logger = logger
        forwarder = LeaderForwarder(password: password, timeout: forwardTimeout, logger: logger)
        membership = MembershipAdministrator(backend: backend, catchUpTimeout: catchUpTimeout, logger: logger)
    }

    /// A new connection's session.
    public func makeSession() -> ClientSession {
        ClientSession(id: nextClientID.add(1, ordering: .relaxed).oldValue, isAuthenticated: password == nil)
    }

    /// The member addresses last read from the replicated store.
    public var knownMembers: [UInt64: MemberDirectory.Addresses] { members.withLock { $0 } }

    /// Reads the member records at a linearizable point and, if this node's own is missing or
    /// stale, writes it. Returns the members read.
    /// - Throws: `RaftNodeError` when the read fails (no leader yet).
    @discardableResult
    public func publishMembership() async throws(RaftNodeError) -> [UInt64: MemberDirectory.Addresses] {
        let current = try await backend.read { MemberDirectory.members(in: $0.store) }
        members.withLock { $0 = current }
        // Only a member records itself: a node waiting to join is recorded by the `ADD` that
        // adds it, and a removed one must not put its record back.
        if current[identity.id] != identity.addresses, backend.status?.configuration.members.contains(identity.id) == true {
            let record = KVCommand.put(key: MemberDirectory.key(of: identity.id), value: MemberDirectory.value(of: identity.addresses))
            if case .success = await submit(.batch([record])) {
                logger.info("recorded this member's addresses", metadata: ["peer": "\(identity.addresses.peer)", "client": "\(identity.addresses.client)"])
            }
        }
        return current
    }

    // MARK: Executing

    /// Executes a pipeline in order and returns one reply per command.
    public func execute(_ commands: [[[UInt8]]], session: inout ClientSession) async -> [RESPValue] {
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        var steps: [CommandStep] = []
        for command in commands { steps.append(plan(command, session: &session)) }
        var index = 0
        while index < steps.count {
            switch steps[index] {
            case .reply(let value):
                replies.append(value)
                index += 1
            case .forwarded(let bytes):
                replies.append(await proposeForwarded(bytes))
                index += 1
            case .snapshot:
                replies.append(await takeSnapshot())
                index += 1
            case .membership(let request):
                replies.append(await membership.execute(request, knownMembers: knownMembers))
                index += 1
            case .write:
                var writes: [(KVCommand, @Sendable (KVResult) -> RESPValue)] = []
                while index < steps.count, case .write(let command, let render) = steps[index] {
                    writes.append((command, render))
                    index += 1
                }
                switch await submit(.batch(writes.map { $0.0 })) {
                case .success(.batch(let results)) where results.count == writes.count:
                    for (result, write) in zip(results, writes) { replies.append(write.1(result)) }
                case .success(let other):
                    replies += Array(repeating: WriteFailure.unknown("unexpected result \(other)"), count: writes.count)
                case .failure(let failure):
                    replies += Array(repeating: failure.reply, count: writes.count)
                }
            case .read:
                var queries: [@Sendable (KVStore) -> RESPValue] = []
                while index < steps.count, case .read(let query) = steps[index] {
                    queries.append(query)
                    index += 1
                }
                let batch = queries
                do throws(RaftNodeError) {
                    replies += try await backend.read { machine in batch.map { $0(machine.store) } }
                } catch {
                    replies += Array(repeating: WriteFailure.readReply(for: error), count: queries.count)
                }
            }
        }
        return replies
    }

    /// Replicates `command` (forwarding it from a follower) and returns its result once it is
    /// applied here, or the error reply.
    func submit(_ command: KVCommand) async -> Result<KVResult, FailedWrite> {
        let bytes = command.encoded()
        var leader = backend.leaderID
        if leader == identity.id {
            do throws(RaftNodeError) {
                return .success(try await backend.propose(bytes))
            } catch {
                guard case .notLeader(let other) = error, let other else { return .failure(FailedWrite(WriteFailure.reply(for: error))) }
                leader = other
            }
        }
        guard let leader else { return .failure(FailedWrite(WriteFailure.reply(for: .notLeader(leader: nil)))) }
        var address = members.withLock { $0[leader]?.client }
        if address == nil { address = (try? await publishMembershipQuietly())?[leader]?.client }
        guard let address else {
            return .failure(FailedWrite(.error("TRYAGAIN the leader's client address is not known yet; the write was not executed")))
        }
        let result = await forwarder.forward(bytes, to: address)
        if case .success = result {
            // Answer once the entry is applied here too: a read barrier does it, since the
            // entry was committed before the barrier began.
            _ = try? await backend.read { _ in 0 }
        }
        return result
    }

    private func publishMembershipQuietly() async throws(RaftNodeError) -> [UInt64: MemberDirectory.Addresses] {
        let current = try await backend.read { MemberDirectory.members(in: $0.store) }
        members.withLock { $0 = current }
        return current
    }

    /// Proposes a forwarded command here, on the leader, without forwarding it again.
    private func proposeForwarded(_ bytes: [UInt8]) async -> RESPValue {
        guard (try? KVCommand(decoding: bytes)) != nil else { return .error("ERR undecodable forwarded command") }
        do throws(RaftNodeError) {
            return .bulkString(try await backend.propose(bytes).encoded())
        } catch {
            return WriteFailure.reply(for: error)
        }
    }

    /// Takes a snapshot on this node and answers its last index.
    private func takeSnapshot() async -> RESPValue {
        do throws(RaftNodeError) {
            return .integer(Int64(try await backend.snapshot()))
        } catch {
            return .error("ERR snapshot failed: \(error)")
        }
    }

    // MARK: Planning

    private func plan(_ arguments: [[UInt8]], session: inout ClientSession) -> CommandStep {
        guard let first = arguments.first else { return .reply(.error("ERR empty command")) }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        let arguments = Array(arguments.dropFirst())
        if !session.isAuthenticated, !["AUTH", "HELLO", "QUIT"].contains(name) {
            return .reply(.error("NOAUTH Authentication required."))
        }
        do throws(CommandError) {
            return try plan(name, arguments, session: &session)
        } catch {
            return .reply(error.reply(command: name, arguments: arguments))
        }
    }

    private func plan(_ name: String, _ arguments: [[UInt8]], session: inout ClientSession) throws(CommandError)
        -> CommandStep
    {
        let arity = CommandArity(arguments: arguments)
        switch name {
        case "PING":
            try arity.require(0...1)
            return .reply(arguments.first.map { .bulkString($0) } ?? .simpleString("PONG"))
        case "ECHO":
            try arity.require(1...1)
            return .reply(.bulkString(arguments[0]))
        case "QUIT":
            session.wantsClose = true
            return .reply(.ok)
        case "AUTH":
            try arity.require(1...2)
            return .reply(authenticate(arguments.last!, session: &session))
        case "HELLO":
            return .reply(try hello(arguments, session: &session))
        case "SELECT":
            try arity.require(1...1)
            guard let index = Int(String(decoding: arguments[0], as: UTF8.self)) else {
                throw .reply("ERR value is not an integer or out of range")
            }
            return .reply(index == 0 ? .ok : .error("ERR DB index is out of range"))
        case "CLIENT":
            return .reply(try client(arguments, session: &session))
        case "COMMAND":
            return .reply(arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } == "COUNT" ? .integer(0) : .array([]))
        case "CONFIG":
            return .reply(try config(arguments))
        case "INFO":
            return .reply(.bulk(info()))
        case "RAFTKV.FORWARD":
            try arity.require(1...1)
            return .forwarded(arguments[0])
        case "RAFTKV.SNAPSHOT":
            try arity.require(0...0)
            return .snapshot
        case "RAFTKV.MEMBER":
            return .membership(try MembershipRequest(parsing: arguments))
        case "RAFTKV.DIGEST":
            // The whole store, membership records included, at a linearizable point: replicas
            // at the same applied index answer the same.
            try arity.require(0...0)
            return .read { store in .array([.bulk(String(store.digest, radix: 16)), .integer(Int64(store.count))]) }
        case "DBSIZE":
            try arity.require(0...0)
            return .read { .integer(Int64(MemberDirectory.clientKeyCount(in: $0))) }
        case "GET":
            try arity.require(1...1)
            let key = try Self.key(arguments[0])
            return .read { store in store[key].map { .bulkString($0) } ?? .null }
        case "MGET":
            try arity.require(1...Int.max)
            let keys = try arguments.map { (argument) throws(CommandError) in try Self.key(argument) }
            return .read { store in .array(keys.map { store[$0].map { .bulkString($0) } ?? .null }) }
        case "EXISTS":
            try arity.require(1...Int.max)
            let keys = try arguments.map { (argument) throws(CommandError) in try Self.key(argument) }
            return .read { store in .integer(Int64(keys.filter { store[$0] != nil }.count)) }
        case "STRLEN":
            try arity.require(1...1)
            let key = try Self.key(arguments[0])
            return .read { store in .integer(Int64(store[key]?.count ?? 0)) }
        case "SET":
            return try set(arguments)
        case "GETSET":
            try arity.require(2...2)
            return .write(.getSet(key: try Self.key(arguments[0]), value: try Self.value(arguments[1])), render: Self.render)
        case "DEL", "UNLINK":
            try arity.require(1...Int.max)
            let keys = try arguments.map { (argument) throws(CommandError) in try Self.key(argument) }
            return .write(.delete(keys: keys), render: Self.render)
        case "INCR", "DECR":
            try arity.require(1...1)
            return .write(.increment(key: try Self.key(arguments[0]), by: name == "INCR" ? 1 : -1), render: Self.render)
        case "INCRBY", "DECRBY":
            try arity.require(2...2)
            guard let amount = Int64(String(decoding: arguments[1], as: UTF8.self)),
                name == "INCRBY" || amount != .min
            else { throw .reply("ERR value is not an integer or out of range") }
            return .write(.increment(key: try Self.key(arguments[0]), by: name == "INCRBY" ? amount : -amount), render: Self.render)
        case "APPEND":
            try arity.require(2...2)
            return .write(.append(key: try Self.key(arguments[0]), value: try Self.value(arguments[1])), render: Self.render)
        case "MSET":
            guard !arguments.isEmpty, arguments.count % 2 == 0 else { throw .arity }
            var pairs: [KVCommand.KeyValue] = []
            for start in stride(from: 0, to: arguments.count, by: 2) {
                pairs.append(KVCommand.KeyValue(key: try Self.key(arguments[start]), value: try Self.value(arguments[start + 1])))
            }
            return .write(.setMany(pairs), render: Self.render)
        case "CAS":
            try arity.require(3...3)
            return .write(
                .compareAndSet(key: try Self.key(arguments[0]), expected: arguments[1], new: try Self.value(arguments[2])),
                render: { result in if case .ok = result { .integer(1) } else { Self.render(result) } })
        default:
            throw .unknownCommand
        }
    }

    private func set(_ arguments: [[UInt8]]) throws(CommandError) -> CommandStep {
        guard arguments.count >= 2 else { throw .arity }
        var condition = KVCommand.SetCondition.always
        var returnOld = false
        for option in arguments.dropFirst(2) {
            switch String(decoding: option, as: UTF8.self).uppercased() {
            case "NX" where condition == .always: condition = .ifAbsent
            case "XX" where condition == .always: condition = .ifPresent
            case "GET": returnOld = true
            default: throw .reply("ERR syntax error")
            }
        }
        return .write(
            .set(key: try Self.key(arguments[0]), value: try Self.value(arguments[1]), condition: condition, returnOld: returnOld),
            render: Self.render)
    }

    private func authenticate(_ candidate: [UInt8], session: inout ClientSession) -> RESPValue {
        guard let password else {
            return .error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
            )
        }
        guard ConstantTime.equal(candidate, password) else {
            return .error("WRONGPASS invalid username-password pair or user is disabled.")
        }
        session.isAuthenticated = true
        return .ok
    }

    private func hello(_ arguments: [[UInt8]], session: inout ClientSession) throws(CommandError) -> RESPValue {
        var version = session.version
        var rest = arguments[...]
        if let first = rest.first {
            guard let requested = Int(String(decoding: first, as: UTF8.self)) else {
                throw .reply("ERR Protocol version is not an integer or out of range")
            }
            guard let chosen = RESPEncoder.ProtocolVersion(rawValue: requested) else {
                throw .reply("NOPROTO unsupported protocol version")
            }
            version = chosen
            rest = rest.dropFirst()
        }
        while let option = rest.first {
            switch String(decoding: option, as: UTF8.self).uppercased() {
            case "AUTH" where rest.count >= 3:
                let reply = authenticate(rest[rest.startIndex + 2], session: &session)
                if reply.isError { return reply }
                rest = rest.dropFirst(3)
            case "SETNAME" where rest.count >= 2:
                session.name = String(decoding: rest[rest.startIndex + 1], as: UTF8.self)
                rest = rest.dropFirst(2)
            default:
                throw .reply("ERR Syntax error in HELLO option '\(String(decoding: option, as: UTF8.self))'")
            }
        }
        guard session.isAuthenticated else { return .error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time") }
        session.version = version
        let role = backend.status?.role == .leader ? "master" : "replica"
        return .map([
            .bulk("server"), .bulk("raftkv"), .bulk("version"), .bulk("7.0.0"), .bulk("proto"), .integer(Int64(version.rawValue)),
            .bulk("id"), .integer(session.id), .bulk("mode"), .bulk("cluster"), .bulk("role"), .bulk(role),
            .bulk("modules"), .array([]),
        ])
    }

    private func client(_ arguments: [[UInt8]], session: inout ClientSession) throws(CommandError) -> RESPValue {
        guard let sub = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { throw .arity }
        switch sub {
        case "ID": return .integer(session.id)
        case "SETNAME" where arguments.count == 2:
            session.name = String(decoding: arguments[1], as: UTF8.self)
            return .ok
        case "GETNAME": return session.name.map { .bulk($0) } ?? .null
        case "SETINFO" where arguments.count == 3: return .ok
        default:
            throw .reply("ERR unknown subcommand '\(String(decoding: arguments[0], as: UTF8.self))'. Try CLIENT HELP.")
        }
    }

    private func config(_ arguments: [[UInt8]]) throws(CommandError) -> RESPValue {
        guard arguments.count >= 2, String(decoding: arguments[0], as: UTF8.self).uppercased() == "GET" else {
            throw .reply("ERR CONFIG supports only GET here")
        }
        var pairs: [RESPValue] = []
        for parameter in arguments.dropFirst().map({ String(decoding: $0, as: UTF8.self).lowercased() }) {
            // What redis-benchmark asks at start-up: no RDB saving; durability is the Raft log.
            switch parameter {
            case "save": pairs += [.bulk("save"), .bulk("")]
            case "appendonly": pairs += [.bulk("appendonly"), .bulk("no")]
            default: break
            }
        }
        return .map(pairs)
    }

    /// The `INFO` text: a `# Server` and a `# Replication` section.
    public func info() -> String {
        let status = backend.status
        let members = knownMembers
        let role: String =
            switch status?.role {
            case .leader: "leader"
            case .candidate, .preCandidate: "candidate"
            default: "follower"
            }
        var lines = ["# Server", "redis_version:7.0.0", "raftkv_node_id:\(identity.id)", "", "# Replication"]
        lines.append("role:\(role)")
        lines.append("node_id:\(identity.id)")
        let leader = status?.leader
        lines.append("leader_id:\(leader.map(String.init) ?? "0")")
        lines.append("leader_client_addr:\(leader.flatMap { members[$0]?.client } ?? "")")
        lines.append("term:\(status?.term ?? 0)")
        lines.append("commit_index:\(status?.commitIndex ?? 0)")
        lines.append("applied_index:\(status?.appliedIndex ?? 0)")
        lines.append("first_index:\(status?.firstIndex ?? 0)")
        lines.append("last_index:\(status?.lastIndex ?? 0)")
        lines.append("snapshot_index:\(status?.snapshotIndex ?? 0)")
        lines.append("cluster_id:\(identity.clusterID)")
        if let configuration = status?.configuration {
            let voters = configuration.voters.sorted()
            lines.append("members:\(voters.count + configuration.learners.count)")
            for id in voters + configuration.learners.sorted() {
                let addresses = members[id]
                let kind = configuration.learners.contains(id) ? "learner" : "voter"
                lines.append("member_\(id):\(kind),peer=\(addresses?.peer ?? ""),client=\(addresses?.client ?? "")")
            }
        }
        if let reason = status?.stopReason { lines.append("stop_reason:\(reason)") }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: Values

    private static func key(_ bytes: [UInt8]) throws(CommandError) -> String {
        guard bytes.count <= KVStore.maxKeyBytes else { throw .reply("ERR key is longer than \(KVStore.maxKeyBytes) bytes") }
        guard let key = String(validating: bytes, as: UTF8.self) else { throw .reply("ERR keys must be valid UTF-8 here") }
        guard MemberDirectory.isClientKey(key) else { throw .reply("ERR keys starting with \\x00raftkv/ are reserved") }
        return key
    }

    private static func value(_ bytes: [UInt8]) throws(CommandError) -> [UInt8] {
        guard bytes.count <= KVStore.maxValueBytes else {
            throw .reply("ERR string exceeds maximum allowed size (\(KVStore.maxValueBytes) bytes)")
        }
        return bytes
    }

    @Sendable private static func render(_ result: KVResult) -> RESPValue {
        switch result {
        case .ok: .ok
        case .value(let value): value.map { .bulkString($0) } ?? .null
        case .casFailed: .integer(0)
        case .integer(let number): .integer(number)
        case .error(let message): .error(message)
        case .batch: .error("ERR unexpected nested result")
        }
    }
}
