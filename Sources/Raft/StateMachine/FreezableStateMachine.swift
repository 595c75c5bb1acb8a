import WAL

/// A state machine that can hand the runtime a frozen copy of its state, so that a snapshot is
/// written off the run loop while the node goes on applying, replicating and sending heartbeats.
///
/// Without it, `RaftNode` writes a snapshot on its run loop, and nothing else happens until it
/// is done: a leader with a large state stops sending heartbeats for as long as that takes,
/// and its followers elect another leader. A state held in copy-on-write values (Swift's
/// dictionaries, arrays and strings) freezes in O(1): the copy shares storage until the next
/// `apply` writes to it.
public protocol FreezableStateMachine: StateMachine {
    /// The frozen copy.
    associatedtype Frozen: FrozenState

    /// Returns the state as it is now. It must be cheap (it runs on the run loop), and no later
    /// `apply` may change what it returns: a class-backed state machine must copy what it holds.
    func freeze() -> Frozen
}

/// A state frozen at one applied index, written to a snapshot on another task.
public protocol FrozenState: Sendable {
    /// Writes the whole state to `sink`, as ``StateMachine/writeSnapshot(to:)`` would have at
    /// the moment it was frozen.
    ///
    /// - Parameter sink: Where the bytes go.
    /// - Throws: Whatever the sink or the state machine throws; the node then stops.
    nonisolated(nonsending) func writeSnapshot(to sink: inout some SnapshotSink) async throws
}
