/// One Raft node as a deterministic, I/O-free state machine, in the style of
/// etcd-io/raft.
///
/// Inputs are ``tick()``, ``step(_:)``, ``propose(_:)``,
/// ``proposeConfChange(_:)``, ``readIndex(context:)``,
/// ``transferLeadership(to:)`` and ``campaign()``. After any input the
/// runtime calls ``ready()``, carries out the returned ``Ready`` in the order
/// its documentation gives, and hands it back to ``advance(_:)``. Nothing
/// here blocks, reads a clock, or draws entropy: the same inputs and seed
/// always give the same outputs.
///
/// The core holds only unpersisted entries; everything else is read through
/// `Storage`, which the runtime updates with ``updateStorage(_:)``.
///
/// ## When a configuration takes effect
///
/// A configuration change takes effect when its entry is *applied*, that is
/// when the ``Ready`` that carried it in ``Ready/committedEntries`` is passed
/// to ``advance(_:)`` (etcd's rule, not the thesis's "on append" rule). The
/// hazards this rule brings, and how they are contained:
/// - Nodes switch at different times. This is safe because a change is only
///   proposed once the previous one is applied by the leader (one pending
///   change at a time), and each step is either a single-voter change or a
///   joint configuration, so any two configurations in force at once have
///   overlapping quorums.
/// - A node restarting from an older snapshot has an out-of-date
///   configuration until it re-applies the committed log, so it does not
///   campaign while a committed configuration change is unapplied.
/// - A leader does not know at election time whether its log holds an
///   unapplied change, so it accepts no new change until it has applied its
///   whole log as of the election.
/// - A removed leader keeps leading until it applies its removal (the entry
///   commits under the old configuration). While joint, its match index only
///   counts in the halves it belongs to.
/// - A node whose promotion from learner is committed but not applied still
///   answers vote requests (its own view may be stale); votes are only ever
///   *counted* from voters of the candidate's configuration, so learners
///   never decide an election.
/// - A voter that does not know a change is committed keeps the old
///   configuration, which may need the vote of a node the change removed or
///   demoted; that node may hold a longer (uncommitted) log and refuse it,
///   forever. Three rules keep this from stalling the cluster: a leader only
///   advertises a commit index it has persisted; a removed or demoted leader
///   keeps leading, taking no proposals, until a quorum of the new
///   configuration reports the change durably committed (or two election
///   timeouts pass); and vote replies carry the voter's commit index, which a
///   candidate holding the same entry adopts.
/// - A candidate whose own removal is applied during its campaign gives up:
///   a node outside the configuration never becomes leader.
///
/// ## Snapshots
///
/// A follower that already holds the snapshot's last entry (same index and
/// term) keeps its log and does not install the snapshot; otherwise the
/// ``Ready`` carries the snapshot and the runtime replaces the whole stored
/// log with it, so no entry that conflicts with the snapshot survives.
public struct RaftReplica<Storage: LogStorage> {
    /// This node's id.
    public let id: NodeID
    /// The tunables.
    public let options: RaftOptions
    var log: RaftLog<Storage>
    /// The current term.
    public internal(set) var term: UInt64
    /// The vote cast in ``term``.
    public internal(set) var vote: NodeID?
    /// The node's role.
    public internal(set) var role: Role = .follower
    /// The leader of ``term``, when known.
    public internal(set) var leader: NodeID?
    var tracker: ProgressTracker
    var electionElapsed = 0
    var heartbeatElapsed = 0
    var randomizedElectionTimeout = 0
    var random: SplitMix64
    /// The index of the last configuration change the leader may have
    /// appended; no new change until it is applied.
    var pendingConfIndex: UInt64 = 0
    /// Set on a leader that applied a configuration without itself as a
    /// voter: the index of that change. It keeps leading (taking no
    /// proposals) until a quorum of the new configuration has durably learned
    /// the change is committed, then steps down.
    var stepDownIndex: UInt64?
    var stepDownElapsed = 0
    var transferTarget: NodeID?
    var transferElapsed = 0
    var readIndexQueue = ReadIndexQueue()
    /// Read requests received before this leader committed an entry of its
    /// term; they wait for that commit (etcd-io/etcd #7331).
    var readsAwaitingTermCommit: [(requester: NodeID, context: [UInt8])] = []
    var outbox: [Message] = []
    var outboxAfterPersist: [Message] = []
    var readStates: [ReadState] = []
    /// The hard state last handed out in a `Ready`.
    var lastReadyHardState: HardState
    /// The hard state the runtime last reported durable.
    var persistedHardState: HardState
    /// Messages dropped as malformed, inconsistent or from unknown nodes.
    public internal(set) var droppedMessages: UInt64 = 0

    /// Broken internal invariants seen: a commit beyond the last index, applied beyond
    /// commit, a committed membership change that does not apply. Input never causes one
    /// (bad input is dropped and counted in ``droppedMessages``); a non-zero count is a bug
    /// in the core, which the simulator and the randomized tests assert never happens.
    /// Counted rather than trapped on in release builds (debug builds also assert).
    public var invariantViolations: UInt64 { log.violations }

    /// Records a broken internal invariant.
    mutating func violated(_ invariant: @autoclosure () -> String) {
        log.violations += 1
        assertionFailure(invariant())
    }

    /// Creates (or restarts) a node from its durable state.
    ///
    /// - Parameters:
    ///   - id: This node's id (non-zero).
    ///   - storage: The durable log; its snapshot carries the configuration
    ///     (for a fresh cluster, a snapshot at index 0 with the bootstrap
    ///     configuration).
    ///   - hardState: The persisted term, vote and commit index.
    ///   - applied: The last index reflected in the state machine the runtime
    ///     restored (at least the snapshot's index).
    ///   - options: The tunables.
    ///   - randomSeed: Seeds election-timeout jitter.
    public init(
        id: NodeID,
        storage: Storage,
        hardState: HardState,
        applied: UInt64 = 0,
        options: RaftOptions = RaftOptions(),
        randomSeed: UInt64
    ) {
        assert(id != 0, "node id 0 is reserved")
        self.id = id
        self.options = options
        log = RaftLog(storage: storage, committed: hardState.commit, applied: applied)
        term = hardState.term
        vote = hardState.vote
        random = SplitMix64(seed: randomSeed ^ (id &* 0x9E37_79B9_7F4A_7C15))
        tracker = ProgressTracker(
            configuration: storage.snapshot.configuration,
            maxInflightMessages: options.maxInflightMessages,
            maxInflightBytes: options.maxInflightBytes
        )
        let normalized = HardState(term: hardState.term, vote: hardState.vote, commit: log.committed)
        lastReadyHardState = normalized
        persistedHardState = normalized
        replayConfigurationChanges()
        becomeFollower(term: term, leader: nil)
    }

    /// Brings the configuration up to `applied` by re-applying the changes
    /// between the snapshot and it, which the state machine already reflects.
    private mutating func replayConfigurationChanges() {
        forEachEntry(in: (log.storage.snapshot.index + 1)..<(log.applied + 1)) { entry in
            if entry.kind == .configChange { applyConfChange(entry) }
            return true
        }
    }

    /// Visits the entries in `range` in order, in bounded chunks, until
    /// `body` returns `false`.
    func forEachEntry(in range: Range<UInt64>, _ body: (Entry) -> Bool) {
        var lower = range.lowerBound
        while lower < range.upperBound {
            guard let chunk = log.entries(from: lower, to: range.upperBound, maxBytes: 1 << 20), !chunk.isEmpty else {
                return
            }
            for entry in chunk where !body(entry) { return }
            lower += UInt64(chunk.count)
        }
    }

    /// Read access to the durable log.
    public var storage: Storage { log.storage }

    /// Lets the runtime persist into the storage the core reads from (for a
    /// value-typed storage such as ``MemoryLogStorage``).
    public mutating func updateStorage<Result>(_ body: (inout Storage) throws -> Result) rethrows -> Result {
        try body(&log.storage)
    }

    /// The current term, vote and commit index.
    public var hardState: HardState {
        HardState(term: term, vote: vote, commit: log.committed)
    }

    /// The highest index known committed.
    public var commitIndex: UInt64 { log.committed }

    /// The highest index the application reported applied.
    public var appliedIndex: UInt64 { log.applied }

    /// The index of the last entry in the log.
    public var lastIndex: UInt64 { log.lastIndex }

    /// The configuration in force (as of ``appliedIndex``); store it in the
    /// metadata of a snapshot taken at that index.
    public var configuration: Configuration { tracker.configuration }

    /// A snapshot of the node's state.
    public var status: RaftStatus {
        var progress: [NodeID: MemberProgress] = [:]
        if role == .leader {
            for (member, entry) in tracker.progress {
                progress[member] = MemberProgress(match: entry.match, next: entry.next, state: entry.state)
            }
        }
        return RaftStatus(
            id: id, role: role, leader: leader, hardState: hardState, applied: log.applied,
            lastIndex: log.lastIndex, configuration: tracker.configuration,
            droppedMessages: droppedMessages, transferTarget: transferTarget, progress: progress
        )
    }

    /// Whether this node may campaign: only voters may; learners and removed
    /// nodes never do.
    var isPromotable: Bool { tracker.configuration.isVoter(id) }

    /// Queues `message` from this node, in the bucket the persistence
    /// contract demands.
    mutating func send(_ message: Message) {
        var message = message
        message.from = id
        if message.requiresPersistence {
            outboxAfterPersist.append(message)
        } else {
            outbox.append(message)
        }
    }

    /// Counts a message that was refused as malformed or inconsistent.
    mutating func drop() {
        droppedMessages += 1
    }
}

extension RaftReplica: Sendable where Storage: Sendable {}
