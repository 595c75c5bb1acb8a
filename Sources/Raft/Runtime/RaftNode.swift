import RaftCore
import ServiceLifecycle
import Synchronization
import WAL

/// A member of a Raft cluster: the replicated log, its storage, and the application's state
/// machine, behind an `async` API.
///
/// Run it as a `Service` (with swift-service-lifecycle's `ServiceGroup`, or by calling
/// `run()` in a task): `run` recovers from disk and then processes inputs one at a time
/// (ticks from `clock`, envelopes handed to `receive(_:)`, and requests) until shutdown.
/// Requests made before `run` starts wait for it.
///
/// ```swift
/// let node = RaftNode(configuration: configuration, fileSystem: PosixFileSystem(),
///                     stateMachine: MyStore(), transport: transport, clock: ContinuousClock())
/// let group = ServiceGroup(services: [node], logger: logger)
/// try await group.run()
/// // elsewhere:
/// let output = try await node.propose(command)
/// let value = try await node.read { store in store[key] }
/// ```
///
/// Failure is closed: if the log or the snapshot store fails (EIO, a full disk, corruption),
/// the node stops, every waiting request fails with `RaftNodeError.stopped(cause:)`, and
/// `run` throws. Restart it to recover from disk.
public final class RaftNode<FS: FileSystem, SM: StateMachine, T: Transport & Sendable, C: Clock>: Service, EnvelopeSink
where C.Duration == Duration {
    /// What the node was started with.
    public let configuration: RaftNodeConfiguration
    private let fileSystem: FS
    private let transport: T
    private let clock: C
    private let commands: AsyncStream<Command>
    private let inbox: AsyncStream<Command>.Continuation
    private let pendingMachine: Mutex<SM?>
    private let latestStatus = Mutex<RaftNodeStatus?>(nil)
    private let queued = Atomic<Int>(0)

    private enum Command: Sendable {
        case tick
        case receive(Envelope)
        case unreachable(NodeID)
        case propose([UInt8], @Sendable (Result<SM.Output, RaftNodeError>) -> Void)
        case read(@Sendable (SM) -> Void, @Sendable (RaftNodeError) -> Void)
        case changeMembership(ConfChange, @Sendable (Result<Void, RaftNodeError>) -> Void)
        case transferLeadership(NodeID, @Sendable (Result<Void, RaftNodeError>) -> Void)
        case snapshot(@Sendable (Result<UInt64, RaftNodeError>) -> Void)

        func fail(_ error: RaftNodeError) {
            switch self {
            case .tick, .receive, .unreachable: break
            case .propose(_, let completion): completion(.failure(error))
            case .read(_, let failure): failure(error)
            case .changeMembership(_, let completion), .transferLeadership(_, let completion):
                completion(.failure(error))
            case .snapshot(let completion): completion(.failure(error))
            }
        }
    }

    /// Creates a node; `run()` starts it.
    public init(
        configuration: RaftNodeConfiguration, fileSystem: FS, stateMachine: sending SM, transport: T, clock: C
    ) {
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.transport = transport
        self.clock = clock
        self.pendingMachine = Mutex(stateMachine)
        (commands, inbox) = AsyncStream.makeStream(of: Command.self)
    }

    // MARK: Running

    /// Recovers from disk, then runs the node until `shutdown()`, a graceful shutdown of the
    /// service group, or a failure of its storage (which it throws).
    public func run() async throws {
        guard let machine = pendingMachine.withLock({ $0.take() }) else {
            throw RaftNodeError.alreadyStarted
        }
        let engine: NodeEngine<FS, SM, T>
        do {
            engine = try await NodeEngine.open(
                configuration: configuration, fileSystem: fileSystem, stateMachine: machine, transport: transport)
        } catch {
            inbox.finish()
            for await command in commands { command.fail(.stopped(cause: error)) }
            throw error
        }
        latestStatus.withLock { $0 = engine.status }
        let (clock, inbox, interval) = (self.clock, self.inbox, configuration.tickInterval)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while (try? await clock.sleep(for: interval)) != nil {
                        if case .terminated = inbox.yield(.tick) { return }
                    }
                }
                for await command in commands {
                    // Ticks come from the ticker, which does not count them.
                    if case .tick = command {} else { queued.subtract(1, ordering: .relaxed) }
                    await handle(command, engine)
                    latestStatus.withLock { $0 = engine.status }
                    if engine.failure != nil { break }
                }
                inbox.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.finish()
        }
        let failure = engine.failure
        await engine.close()
        latestStatus.withLock { $0 = engine.status }
        for await command in commands { command.fail(failure.map { .stopped(cause: $0) } ?? .shutDown) }
        if let failure { throw failure }
    }

    /// Stops the node: requests already queued are handled, later ones fail with `.shutDown`,
    /// and `run` returns once the log is closed.
    public func shutdown() {
        inbox.finish()
    }

    nonisolated(nonsending) private func handle(_ command: Command, _ engine: NodeEngine<FS, SM, T>) async {
        switch command {
        case .tick:
            await engine.tick()
        case .receive(let envelope):
            await engine.receive(envelope)
        case .unreachable(let peer):
            await engine.reportUnreachable(peer)
        case .propose(let data, let completion):
            await engine.propose(data) { completion($0) }
        case .read(let query, let failure):
            await engine.read { [unowned engine] result in
                switch result {
                case .success: query(engine.stateMachine)
                case .failure(let error): failure(error)
                }
            }
        case .changeMembership(let change, let completion):
            await engine.changeMembership(change) { completion($0) }
        case .transferLeadership(let target, let completion):
            do throws(RaftNodeError) {
                try await engine.transferLeadership(to: target)
                completion(.success(()))
            } catch {
                completion(.failure(error))
            }
        case .snapshot(let completion):
            do throws(RaftNodeError) { completion(.success(try await engine.snapshotNow())) } catch {
                completion(.failure(error))
            }
        }
    }

    // MARK: Inputs

    /// Hands the node an envelope another node sent it.
    public func receive(_ envelope: Envelope) {
        enqueue(.receive(envelope), bounded: false)
    }

    /// Tells the node that envelopes to `peer` were probably lost.
    public func reportUnreachable(_ peer: NodeID) {
        enqueue(.unreachable(peer), bounded: false)
    }

    private func enqueue(_ command: Command, bounded: Bool) {
        if bounded, queued.load(ordering: .relaxed) >= configuration.maxPendingProposals {
            return command.fail(.overloaded)
        }
        queued.add(1, ordering: .relaxed)
        if case .terminated = inbox.yield(command) {
            queued.subtract(1, ordering: .relaxed)
            command.fail(.shutDown)
        }
    }

    // MARK: Requests

    /// Replicates `command` and returns the state machine's output once it is applied.
    ///
    /// Throws `.notLeader(leader:)` on a follower, `.overloaded` when too many requests wait,
    /// and `.leadershipLost(index:)` when this node stopped leading before the command was
    /// applied; then the outcome is unknown, and a retry may apply the command twice unless
    /// the command is idempotent.
    public func propose(_ command: [UInt8]) async throws(RaftNodeError) -> SM.Output {
        try await withCheckedContinuation { continuation in
            enqueue(.propose(command) { continuation.resume(returning: $0) }, bounded: true)
        }.get()
    }

    /// Runs `query` on the state machine at a linearizable point: after everything committed
    /// before the call was applied (ReadIndex, confirmed by a quorum). Works on followers too.
    public func read<Result: Sendable>(
        _ query: @escaping @Sendable (SM) -> Result
    ) async throws(RaftNodeError) -> Result {
        try await withCheckedContinuation { (continuation: CheckedContinuation<Swift.Result<Result, RaftNodeError>, Never>) in
            enqueue(
                .read({ continuation.resume(returning: .success(query($0))) }, { continuation.resume(returning: .failure($0)) }),
                bounded: true)
        }.get()
    }

    /// Adds `member` as a learner: it receives the log but does not vote, until promoted.
    public func addLearner(_ member: NodeID) async throws(RaftNodeError) {
        try await changeMembership(ConfChange([.addLearner(member)]))
    }

    /// Adds `member` as a voter, or promotes it if it is a learner.
    public func addVoter(_ member: NodeID) async throws(RaftNodeError) {
        try await changeMembership(ConfChange([.addVoter(member)]))
    }

    /// Promotes the learner `member` to voter.
    public func promoteLearner(_ member: NodeID) async throws(RaftNodeError) {
        try await addVoter(member)
    }

    /// Removes `member`, voter or learner.
    public func removeMember(_ member: NodeID) async throws(RaftNodeError) {
        try await changeMembership(ConfChange([.remove(member)]))
    }

    /// Proposes a membership change (several voters at once go through joint consensus) and
    /// returns once it is applied.
    public func changeMembership(_ change: ConfChange) async throws(RaftNodeError) {
        try await withCheckedContinuation { continuation in
            enqueue(.changeMembership(change) { continuation.resume(returning: $0) }, bounded: true)
        }.get()
    }

    /// Asks the leader to hand leadership to `member`; returns once asked. `status` shows
    /// when it happened.
    public func transferLeadership(to member: NodeID) async throws(RaftNodeError) {
        try await withCheckedContinuation { continuation in
            enqueue(.transferLeadership(member) { continuation.resume(returning: $0) }, bounded: true)
        }.get()
    }

    /// Takes a snapshot of the state machine now and truncates the log through it; returns
    /// the snapshot's last index.
    @discardableResult
    public func snapshot() async throws(RaftNodeError) -> UInt64 {
        try await withCheckedContinuation { continuation in
            enqueue(.snapshot { continuation.resume(returning: $0) }, bounded: true)
        }.get()
    }

    /// The node's state as of its last input, or nil before `run` has recovered.
    public var status: RaftNodeStatus? {
        latestStatus.withLock { $0 }
    }
}

extension SnapshotWriter: SnapshotSink {}
