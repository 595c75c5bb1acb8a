import WAL

/// The application's replicated state, which a `RaftNode` keeps in step with the log.
///
/// Every node applies the same committed commands in the same order, so `apply` must be
/// deterministic: the same state and commands give the same state and outputs.
///
/// The applied index is not the state machine's to store: the runtime writes it into every
/// snapshot's header, and after a restart re-applies the commands after the snapshot. So a
/// state machine is exactly as durable as its last snapshot, and it never needs its own fsync.
public protocol StateMachine: SendableMetatype {
    /// What applying a command returns to the proposer.
    associatedtype Output: Sendable

    /// Applies committed commands in log order and returns one output per command.
    ///
    /// Throwing stops the node (`RaftNodeError.stateMachineFailed`): a replica that cannot
    /// apply a committed command must not go on with a state that differs from the others.
    mutating func apply(_ commands: [CommittedCommand]) throws -> [Output]

    /// Writes the whole state to `sink`, as a stream of bytes.
    nonisolated(nonsending) func writeSnapshot(to sink: inout some SnapshotSink) async throws

    /// Replaces the whole state with the one a snapshot holds.
    nonisolated(nonsending) mutating func restore(from snapshot: some AsyncSequence<[UInt8], SnapshotError>) async throws
}

/// A command from the log, committed and ready to apply.
public struct CommittedCommand: Sendable, Hashable {
    /// Its index in the log.
    public var index: UInt64
    /// The term it was proposed in.
    public var term: UInt64
    /// The proposer's bytes.
    public var data: [UInt8]

    /// Creates a command.
    public init(index: UInt64, term: UInt64, data: [UInt8]) {
        self.index = index
        self.term = term
        self.data = data
    }
}

/// Where a state machine writes its snapshot.
///
/// The requirements run on the caller's executor (`nonisolated(nonsending)`), so a state
/// machine never leaves the task that owns it.
public protocol SnapshotSink {
    /// Appends bytes to the snapshot.
    nonisolated(nonsending) mutating func write(_ bytes: [UInt8]) async throws
}
