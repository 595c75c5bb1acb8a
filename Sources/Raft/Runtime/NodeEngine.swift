import DequeModule
import Logging
import RaftCore
import WAL

/// The body of a `RaftNode`: the consensus core joined to the write-ahead log, the snapshot
/// store, the state machine and a transport.
///
/// It carries out each `Ready` in the persistence contract's order, pipelined (see `drive`):
/// messages that may go at once (a leader's appends) are sent first; entries and hard state
/// go to the log as one batch with one fsync, and the engine goes on taking inputs while a
/// few batches are in flight; once a batch is durable, in order, vote grants and append
/// acknowledgements go out, committed entries are applied, waiting requests complete, and
/// the core hears that it is done.
///
/// The engine is confined to one task and holds no clock and no randomness of its own, so the
/// deterministic simulator drives the very same code as `RaftNode`, over `SimulatedFileSystem`
/// with the log in `.callingThread` mode and writes held until the simulator releases them
/// (`WriteScheduling.held`).
package final class NodeEngine<FS: FileSystem, SM: StateMachine, T: Transport> {
    /// Completes a proposal with the state machine's output.
    package typealias ProposalCompletion = (Result<SM.Output, RaftNodeError>) -> Void
    /// Completes a membership change, a read or another request without a value.
    package typealias Completion = (Result<Void, RaftNodeError>) -> Void

    package let configuration: RaftNodeConfiguration
    let wal: WriteAheadLog<FS>
    let store: SnapshotStore<FS>
    var replica: RaftReplica<WALLogStorage<FS>>
    /// Where the storage records a failed read; the same object the storage holds, kept
    /// here so the Ready loop checks it without copying the storage out of the core.
    let readFailure: ReadFailure
    /// The application's state; read it only between inputs (or in a read's completion).
    package internal(set) var stateMachine: SM
    let transport: T
    let logger: Logger
    let metrics: NodeMetrics
    /// Why the node stopped; once set, every request fails with `.stopped(cause:)`.
    package internal(set) var failure: RaftNodeError?

    /// Ticks seen, the engine's only notion of time.
    var ticks: UInt64 = 0
    var proposals: [UInt64: PendingProposal] = [:]
    /// Completions of proposals applied in the `Ready` being completed; they run once the core
    /// has advanced, so that whoever they wake sees a status that includes their entries.
    var appliedWaiters: [() -> Void] = []
    /// Runs after a `Ready`'s entries are applied and the core has advanced, before the
    /// proposals and reads it completes are answered. `RaftNode` publishes its status here.
    package var willAnswer: () -> Void = {}
    var reads = PendingReads()
    var outgoingTransfers: [NodeID: OutgoingTransfer<FS>] = [:]
    var incomingTransfer: IncomingTransfer<FS>?
    /// Bytes of entries applied since the last snapshot, for the byte threshold.
    var appliedBytesSinceSnapshot = 0
    /// A snapshot being written off the loop (``FreezableStateMachine``).
    var backgroundSnapshot: BackgroundSnapshot?
    var lastRole: Role = .follower
    /// The term as of the last input, to notice a new term.
    var lastTerm: UInt64 = 0

    // The pipeline (NodeEngine+Pipeline.swift).
    let writes: WriteScheduling
    /// `Ready`s taken and not yet both finished and durable, oldest first.
    var batches: Deque<PipelinedBatch> = []
    /// Batches whose write is not yet durable.
    var writesInFlight = 0
    var nextBatchID: UInt64 = 0
    /// A `Ready` that must wait until nothing else is in flight.
    var barrier: Ready?
    /// The hard state of the last batch handed to the log.
    var lastSubmittedHardState: RaftCore.HardState
    /// Writes the simulator has not released yet (`WriteScheduling.held`).
    var heldWrites: Deque<HeldWrite> = []

    /// Answers a request for a snapshot with the index the snapshot in force covers.
    package typealias SnapshotCompletion = (Result<UInt64, RaftNodeError>) -> Void

    /// A snapshot of a frozen state, being written on another task.
    struct BackgroundSnapshot {
        let index: UInt64
        let configuration: Configuration
        let started: ContinuousClock.Instant
        let task: Task<Result<DurableSnapshot, RaftNodeError>, Never>
        var waiters: [SnapshotCompletion] = []
    }

    /// A request waiting for its entry to be applied.
    struct PendingProposal {
        var term: UInt64
        var proposedAt: ContinuousClock.Instant
        var waiter: Waiter

        enum Waiter {
            case command(ProposalCompletion)
            case membership(Completion)
        }

        func fail(_ error: RaftNodeError) {
            switch waiter {
            case .command(let completion): completion(.failure(error))
            case .membership(let completion): completion(.failure(error))
            }
        }
    }

    /// Opens the node's storage and recovers: restores the newest valid snapshot into
    /// `stateMachine`, and rejoins with the durable term and vote. The committed entries after
    /// the snapshot are re-applied by the first inputs' `Ready`s.
    package static func open(
        configuration: RaftNodeConfiguration, fileSystem: FS, stateMachine: consuming SM, transport: T,
        writes: WriteScheduling
    ) async throws(RaftNodeError) -> NodeEngine {
        try configuration.validate()
        let logger = configuration.logger
        do { try createDirectories(configuration.directory, fileSystem: fileSystem) } catch {
            throw .storage(error.code == .noSpace ? .diskFull(error) : .ioFailure(error))
        }
        let wal: WriteAheadLog<FS>
        do {
            wal = try WriteAheadLog(
                directory: configuration.directory + "/log", fileSystem: fileSystem, options: configuration.wal)
        } catch {
            throw .storage(error)
        }
        let store: SnapshotStore<FS>
        do {
            store = try SnapshotStore(
                directory: configuration.directory + "/snapshots", fileSystem: fileSystem,
                logFirstIndex: wal.firstIndex, options: configuration.snapshots)
        } catch {
            throw .snapshot(error)
        }
        var machine = stateMachine
        if store.latest == nil, wal.lastIndex == 0, wal.hardState == nil, case .newCluster(let voters) = configuration.bootstrap {
            try await found(voters: voters, machine: machine, wal: wal, store: store)
        }
        let snapshot: SnapshotMetadata
        if let latest = store.latest {
            try await dropEntriesConflicting(with: latest, wal: wal)
            // Finishes an install a crash interrupted; changes nothing after a completed one.
            do { try await store.completeInstall(latest, log: wal) } catch { throw .snapshot(error) }
            guard let members = ConfigurationCodec.decode(latest.descriptor.metadata) else {
                throw .undecodableSnapshotMetadata(file: latest.descriptor.fileName)
            }
            try await restore(&machine, from: latest.descriptor, store: store)
            snapshot = SnapshotMetadata(index: latest.lastIndex, term: latest.term, configuration: members)
        } else {
            // A node joining an existing cluster has no configuration until the leader's
            // snapshot brings one; it cannot campaign meanwhile.
            snapshot = SnapshotMetadata(index: 0, term: 0, configuration: Configuration(voters: []))
        }
        let storage = try WALLogStorage(
            wal: wal, snapshot: snapshot, maxCachedBytes: configuration.maxCachedLogBytes)
        var hardState = EntryRecord.coreHardState(wal.hardState)
        if hardState.term < snapshot.term {
            // A crash after a received snapshot became durable, before the hard state that
            // came with it: no vote of that term was ever persisted, so none is lost.
            hardState = RaftCore.HardState(term: snapshot.term, vote: nil, commit: hardState.commit)
        }
        let replica = RaftReplica(
            id: configuration.id, storage: storage, hardState: hardState,
            applied: snapshot.index, options: configuration.raft, randomSeed: configuration.randomSeed)
        logger.info(
            "node recovered",
            metadata: [
                "id": "\(configuration.id)", "snapshot": "\(snapshot.index)", "lastIndex": "\(wal.lastIndex)",
                "term": "\(replica.term)",
            ])
        return NodeEngine(
            configuration: configuration, wal: wal, store: store, replica: replica, stateMachine: machine,
            transport: transport, writes: writes)
    }

    /// A crash after a snapshot received from a leader became durable, but before the log
    /// recorded it, leaves the log of an older leader beside it. The log's entries after the
    /// snapshot are kept only if the log holds the snapshot's last entry with the same term
    /// (Raft's InstallSnapshot rule); otherwise they may conflict with the history the
    /// snapshot is part of, and are dropped. A log that already starts after the snapshot was
    /// recorded against it, so it is kept.
    nonisolated(nonsending) private static func dropEntriesConflicting(
        with snapshot: DurableSnapshot, wal: WriteAheadLog<FS>
    ) async throws(RaftNodeError) {
        let index = snapshot.lastIndex
        guard wal.lastIndex > index, wal.firstIndex <= index else { return }
        let stored: LogEntry
        do { stored = try wal.entry(at: index) } catch { throw .storage(error) }
        guard stored.term != snapshot.term else { return }
        do { try await wal.truncateSuffix(after: wal.firstIndex - 1) } catch { throw .storage(error) }
    }

    /// Creates `path` and its missing parents, so a node may start in a directory that does not
    /// exist yet.
    private static func createDirectories(_ path: String, fileSystem: FS) throws(FileSystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try fileSystem.createDirectory(prefix)
        }
    }

    /// Founds a new cluster: the empty state machine becomes the snapshot at index 1, term
    /// 1, whose metadata holds the founding voters, and the log starts at index 2.
    ///
    /// Putting the founding configuration in a snapshot, rather than only in every founder's
    /// options, is what lets a later member learn it: its log is empty and the leader's
    /// starts at 2 at the earliest, so the leader must send it a snapshot, configuration and
    /// all, before any entry. Every founder writes the same snapshot, so their logs agree.
    nonisolated(nonsending) private static func found(
        voters: Set<NodeID>, machine: SM, wal: WriteAheadLog<FS>, store: SnapshotStore<FS>
    ) async throws(RaftNodeError) {
        let founding = Configuration(voters: voters)
        do {
            let snapshot = try await store.write(
                lastIndex: 1, term: 1, metadata: ConfigurationCodec.encode(founding)
            ) { writer in
                var sink = writer
                try await machine.writeSnapshot(to: &sink)
            }
            try await store.completeInstall(snapshot, log: wal)
        } catch let error as SnapshotError {
            throw .snapshot(error)
        } catch {
            throw .stateMachineFailed("writing the founding snapshot: \(error)")
        }
        do { try await wal.save(WAL.HardState(term: 1, vote: 0, commit: 1)) } catch { throw .storage(error) }
    }

    private init(
        configuration: RaftNodeConfiguration, wal: WriteAheadLog<FS>, store: SnapshotStore<FS>,
        replica: RaftReplica<WALLogStorage<FS>>, stateMachine: consuming SM, transport: T, writes: WriteScheduling
    ) {
        self.writes = writes
        self.lastSubmittedHardState = replica.hardState
        self.configuration = configuration
        self.wal = wal
        self.store = store
        self.replica = replica
        self.readFailure = replica.storage.readFailure
        self.stateMachine = stateMachine
        self.transport = transport
        self.logger = configuration.logger
        self.metrics = NodeMetrics(node: configuration.id)
    }

    // MARK: Inputs

    // Each input has a form that only steps it into the core, so `RaftNode` can step
    // everything queued and then take one `Ready` for all of it, and a form that also drives
    // the `Ready` loop, for callers that feed one input at a time (the simulator, tests).

    /// Advances the core's clock by one tick.
    nonisolated(nonsending) package func tick() async {
        stepTick()
        await drive()
    }

    func stepTick() {
        guard failure == nil else { return }
        ticks += 1
        replica.tick()
        expireReads()
        resendStalledTransfers()
    }

    /// Handles an envelope from another node.
    nonisolated(nonsending) package func receive(_ envelope: Envelope) async {
        await stepReceive(envelope)
        await drive()
    }

    nonisolated(nonsending) func stepReceive(_ envelope: Envelope) async {
        guard failure == nil, envelope.to == configuration.id else { return }
        switch envelope {
        case .raft(let message):
            replica.step(message)
        case .snapshotChunk(let chunk):
            await receiveSnapshotChunk(chunk)
        case .snapshotAck(let ack):
            handleSnapshotAck(ack)
        }
    }

    /// Tells the core that envelopes to `peer` were probably lost.
    nonisolated(nonsending) package func reportUnreachable(_ peer: NodeID) async {
        stepUnreachable(peer)
        await drive()
    }

    func stepUnreachable(_ peer: NodeID) {
        guard failure == nil else { return }
        replica.reportUnreachable(peer)
    }

    /// Closes the log and the snapshot transfers. Later inputs are ignored.
    nonisolated(nonsending) package func close() async {
        if failure == nil { stop(.shutDown) }
        await finishBackgroundSnapshot()
        incomingTransfer?.receiver.abort()
        incomingTransfer = nil
        for transfer in outgoingTransfers.values { transfer.reader.close() }
        outgoingTransfers = [:]
        await wal.close()
    }

    /// The node's state, for `RaftNode.status`.
    package var status: RaftNodeStatus {
        RaftNodeStatus(
            raft: replica.status, commitIndex: replica.commitIndex, firstIndex: replica.storage.firstIndex,
            snapshotIndex: replica.storage.snapshot.index, stopReason: failure.map { "\($0)" })
    }

    // What the simulator's invariant checks read, without copying the core.

    /// The node's role.
    package var role: Role { replica.role }
    /// The node's current term.
    package var term: UInt64 { replica.term }
    /// The highest index known committed.
    package var commitIndex: UInt64 { replica.commitIndex }
    /// The highest index applied to the state machine.
    package var appliedIndex: UInt64 { replica.appliedIndex }
    /// The last index in the log.
    package var lastIndex: UInt64 { replica.lastIndex }
    /// The membership in force.
    package var membership: Configuration { replica.configuration }
    /// The last index the snapshot in force covers.
    package var snapshotIndex: UInt64 { replica.storage.snapshot.index }
    /// The term of the stored entry at `index`, for `snapshotIndex...lastIndex`.
    package func storedTerm(at index: UInt64) -> UInt64? { replica.storage.term(at: index) }

    /// Broken internal invariants the core counted; zero unless there is a bug.
    package var invariantViolations: UInt64 { replica.invariantViolations }

    /// A leader that stepped down fails what waits on it at once: the outcome of its
    /// proposals is unknown, since the next leader may still commit them. Checked after every
    /// input, since a step-down (check-quorum, a higher term) need not produce a `Ready`.
    ///
    /// A new term also fails the reads still waiting for a leader's confirmation: it would
    /// come from the old term's leader, which may be gone, and the caller is better served
    /// retrying at once than waiting out `readTimeoutTicks` (etcd's ErrLeaderChanged).
    func noticeRoleChange() {
        defer { lastRole = replica.role }
        if replica.term != lastTerm {
            lastTerm = replica.term
            reads.failUnconfirmed(.leaderChanged)
        }
        if lastRole != .leader && replica.role == .leader { metrics.recordElectionWon() }
        guard lastRole == .leader, replica.role != .leader else { return }
        let lost = proposals
        proposals = [:]
        for (index, pending) in lost.sorted(by: { $0.key < $1.key }) { pending.fail(.leadershipLost(index: index)) }
        for transfer in outgoingTransfers.values { transfer.reader.close() }
        outgoingTransfers = [:]
    }

    /// Stops the node: nothing more is persisted, sent or applied, and every waiting request
    /// fails. The remedy is a restart, which recovers from disk.
    func stop(_ error: RaftNodeError) {
        guard failure == nil else { return }
        failure = error
        if case .shutDown = error {} else {
            logger.error("node stopped", metadata: ["id": "\(configuration.id)", "error": "\(error)"])
        }
        let stopped = RaftNodeError.stopped(cause: error)
        let pending = proposals
        proposals = [:]
        for (_, proposal) in pending.sorted(by: { $0.key < $1.key }) { proposal.fail(stopped) }
        reads.failAll(stopped)
    }
}
