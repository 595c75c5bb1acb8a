import RaftCore
import ServiceLifecycle
import Synchronization
import WAL

/// A member of a Raft cluster: the replicated log, its storage, and the application's state
/// machine, behind an `async` API.
///
/// Run it as a `Service` (with swift-service-lifecycle's `ServiceGroup`, or by calling
/// `run()` in a task): `run` recovers from disk and then processes inputs in batches (ticks
/// from `clock`, envelopes handed to `receive(_:)` by the transport, and requests) until
/// shutdown. Requests made once `run` was called wait while it recovers; requests made
/// before it fail at once with `.notStarted` rather than wait for a loop that may never
/// run. `status` is non-nil once the node has recovered.
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
    private let inbox: NodeInbox<Request>
    private let pendingMachine: Mutex<SM?>
    private let latestStatus = Mutex<RaftNodeStatus?>(nil)
    private let started = Atomic<Bool>(false)

    private enum Request: Sendable {
        case propose([UInt8], RequestSlot<SM.Output>)
        case read(run: @Sendable (SM) -> Void, fail: @Sendable (RaftNodeError) -> Void)
        case changeMembership(ConfChange, RequestSlot<Void>)
        case transferLeadership(NodeID, RequestSlot<Void>)
        case snapshot(RequestSlot<UInt64>)

        func fail(_ error: RaftNodeError) {
            switch self {
            case .propose(_, let slot): slot.complete(.failure(error))
            case .read(_, let fail): fail(error)
            case .changeMembership(_, let slot), .transferLeadership(_, let slot): slot.complete(.failure(error))
            case .snapshot(let slot): slot.complete(.failure(error))
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
        inbox = NodeInbox(
            maxRequests: configuration.maxQueuedRequests, maxEnvelopes: configuration.maxQueuedEnvelopes,
            maxEnvelopeBytes: configuration.maxQueuedEnvelopeBytes, maxTicks: configuration.raft.electionTicks)
    }

    // MARK: Running

    /// Recovers from disk, then runs the node until `shutdown()`, a graceful shutdown of the
    /// service group, or a failure of its storage (which it throws).
    ///
    /// Each turn of the loop takes everything queued (requests, envelopes, ticks, finished log
    /// writes, up to `maxInputsPerBatch` of each kind), steps it all into the core (proposals
    /// as one batch, reads as one ReadIndex round), and then carries out the core's `Ready`s,
    /// with up to `maxBatchesInFlight` log writes in flight while it takes the next inputs.
    public func run() async throws {
        guard let machine = pendingMachine.withLock({ $0.take() }) else {
            throw RaftNodeError.alreadyStarted
        }
        started.store(true, ordering: .releasing)
        let inbox = self.inbox
        let engine: NodeEngine<FS, SM, T>
        do {
            engine = try await NodeEngine.open(
                configuration: configuration, fileSystem: fileSystem, stateMachine: machine, transport: transport,
                writes: .background(
                    durable: { batch, error in inbox.durable(batch, error: error) },
                    snapshotWritten: { inbox.snapshotWritten() }))
        } catch {
            inbox.close()
            await failQueued(.stopped(cause: error))
            throw error
        }
        latestStatus.withLock { $0 = engine.status }
        // A caller woken by its proposal or read may look at `status` next: show it first.
        engine.willAnswer = { [unowned engine, unowned self] in self.latestStatus.withLock { $0 = engine.status } }
        let (clock, interval) = (self.clock, configuration.tickInterval)
        let maxInputs = configuration.maxInputsPerBatch
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while (try? await clock.sleep(for: interval)) != nil { inbox.tick() }
                }
                while let batch = await inbox.take(maxRequests: maxInputs, maxEnvelopes: maxInputs) {
                    await process(batch, engine)
                    self.latestStatus.withLock { $0 = engine.status }
                    if engine.failure != nil { break }
                }
                inbox.close()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            inbox.close()
        }
        let failure = engine.failure
        await engine.close()
        latestStatus.withLock { $0 = engine.status }
        await failQueued(failure.map { .stopped(cause: $0) } ?? .shutDown)
        if let failure { throw failure }
    }

    /// Stops the node: requests already queued are handled, later ones fail with `.shutDown`,
    /// and `run` returns once the log is closed. Proposals still in flight then fail with
    /// `.shutDown`; their outcome is unknown.
    public func shutdown() {
        inbox.close()
    }

    /// Fails whatever is still queued once the inbox is closed (`take` then returns at once).
    nonisolated(nonsending) private func failQueued(_ error: RaftNodeError) async {
        while let batch = await inbox.take(maxRequests: .max, maxEnvelopes: .max) {
            for request in batch.requests { request.fail(error) }
        }
    }

    /// Steps one batch of inputs into the engine, then drives its `Ready` loop once.
    nonisolated(nonsending) private func process(_ batch: InboxBatch<Request>, _ engine: NodeEngine<FS, SM, T>) async {
        for (id, error) in batch.durable { engine.batchDurable(id, error: error) }
        if batch.snapshotWritten { await engine.finishBackgroundSnapshot() }
        for peer in batch.unreachable { engine.stepUnreachable(peer) }
        for envelope in batch.envelopes { await engine.stepReceive(envelope) }
        for _ in 0..<batch.ticks { engine.stepTick() }
        var proposals: [(command: [UInt8], completion: NodeEngine<FS, SM, T>.ProposalCompletion)] = []
        var reads: [NodeEngine<FS, SM, T>.Completion] = []
        var snapshots: [RequestSlot<UInt64>] = []
        for request in batch.requests {
            switch request {
            case .propose(let command, let slot):
                // A caller that gave up before its proposal reached the core is not proposed.
                guard slot.isPending else { continue }
                proposals.append((command, { slot.complete($0) }))
            case .read(let run, let fail):
                reads.append { [unowned engine] result in
                    switch result {
                    case .success: run(engine.stateMachine)
                    case .failure(let error): fail(error)
                    }
                }
            case .changeMembership(let change, let slot):
                engine.stepChangeMembership(change) { [unowned engine, self] result in
                    // Whoever hears of the change may look at `status` next; show it.
                    self.latestStatus.withLock { $0 = engine.status }
                    slot.complete(result)
                }
            case .transferLeadership(let target, let slot):
                do throws(RaftNodeError) {
                    try engine.stepTransferLeadership(to: target)
                    slot.complete(.success(()))
                } catch {
                    slot.complete(.failure(error))
                }
            case .snapshot(let slot):
                snapshots.append(slot)
            }
        }
        engine.stepProposals(proposals)
        engine.stepReads(reads)
        await engine.drive()
        for slot in snapshots {
            await engine.requestSnapshot { [unowned engine, unowned self] result in
                self.latestStatus.withLock { $0 = engine.status }
                slot.complete(result)
            }
        }
    }

    // MARK: Inputs

    /// Hands the node an envelope another node sent it. Never blocks: when the node's
    /// envelope queue is full, the envelope is dropped and counted (Raft tolerates loss).
    public func receive(_ envelope: Envelope) {
        inbox.deliver(envelope)
    }

    /// Tells the node that envelopes to `peer` were probably lost.
    public func reportUnreachable(_ peer: NodeID) {
        inbox.unreachable(peer)
    }

    /// Envelopes dropped because the node's queue for them was full.
    public var droppedEnvelopes: UInt64 { inbox.droppedEnvelopes }

    /// Queues a request for the loop, or fails it at once.
    private func submit(_ request: Request) {
        guard started.load(ordering: .acquiring) else { return request.fail(.notStarted) }
        switch inbox.submit(request) {
        case nil: break
        case .full: request.fail(.overloaded)
        case .closed: request.fail(.shutDown)
        }
    }

    /// Waits for a request's result; cancelling the caller ends the wait with `.cancelled`.
    private func perform<Value: Sendable>(
        _ makeRequest: (RequestSlot<Value>) -> Request
    ) async throws(RaftNodeError) -> Value {
        let slot = RequestSlot<Value>()
        return try await slot.wait { submit(makeRequest(slot)) }.get()
    }

    // MARK: Requests

    /// Replicates `command` and returns the state machine's output once it is applied.
    ///
    /// Throws `.notLeader(leader:)` on a follower, `.overloaded` when too many requests wait,
    /// `.notStarted` before `run()`, and `.leadershipLost(index:)` when this node stopped
    /// leading before the command was applied; then the outcome is unknown, and a retry may
    /// apply the command twice unless the command is idempotent. Cancelling the calling task
    /// ends the wait with `.cancelled` (outcome unknown, too).
    public func propose(_ command: [UInt8]) async throws(RaftNodeError) -> SM.Output {
        try await perform { .propose(command, $0) }
    }

    /// Runs `query` on the state machine at a linearizable point: after everything committed
    /// before the call was applied (ReadIndex, confirmed by a quorum). Works on followers too.
    /// Reads that arrive together share one ReadIndex round.
    public func read<Result: Sendable>(
        _ query: @escaping @Sendable (SM) -> Result
    ) async throws(RaftNodeError) -> Result {
        try await perform { (slot: RequestSlot<Result>) in
            .read(
                run: { machine in if slot.isPending { slot.complete(.success(query(machine))) } },
                fail: { slot.complete(.failure($0)) })
        }
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
        try await perform { .changeMembership(change, $0) }
    }

    /// Asks the leader to hand leadership to `member`; returns once asked. `status` shows
    /// when it happened.
    public func transferLeadership(to member: NodeID) async throws(RaftNodeError) {
        try await perform { .transferLeadership(member, $0) }
    }

    /// Takes a snapshot of the state machine now and truncates the log through it; returns
    /// the snapshot's last index.
    @discardableResult
    public func snapshot() async throws(RaftNodeError) -> UInt64 {
        try await perform { .snapshot($0) }
    }

    /// The node's state as of its last input, or nil before `run` has recovered.
    public var status: RaftNodeStatus? {
        latestStatus.withLock { $0 }
    }
}

extension SnapshotWriter: SnapshotSink {}
