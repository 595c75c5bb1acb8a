/// Everything the runtime must do after an input, in this order:
///
/// 1. Persist, as one atomic, fsynced batch: ``snapshot`` (install it and
///    discard the whole stored log), then ``entries`` (replacing any stored
///    entry at or after the first one's index), and ``hardState``.
///    ``messages`` may be sent before or during this step.
/// 2. Once that is durable, send ``messagesAfterPersist``.
/// 3. Apply ``committedEntries`` in order (after restoring ``snapshot``, if
///    any) and serve ``readStates`` once applied through their index.
/// 4. Call ``RaftReplica/advance(_:)`` with this value.
///
/// The split between the two message lists is the persistence contract: vote
/// grants and append acknowledgements are only ever in ``messagesAfterPersist``.
///
/// Writes may be pipelined: the runtime may take the next `Ready` (and send
/// its ``messages``) before the previous one is durable, as long as it makes
/// them durable, and calls ``RaftReplica/advance(_:)``, in the order it took
/// them. The leader counts its own entries, and a candidate its own vote, only
/// once `advance` reports them durable.
public struct Ready: Sendable, Hashable {
    /// The hard state to persist, when it changed.
    public var hardState: HardState?
    /// A snapshot from the leader to install, replacing the whole log.
    public var snapshot: SnapshotMetadata?
    /// Entries to append durably.
    public var entries: [Entry] = []
    /// Messages that may be sent at once.
    public var messages: [Message] = []
    /// Messages that may be sent only after this `Ready` is durable.
    public var messagesAfterPersist: [Message] = []
    /// Committed, durable entries to apply to the state machine.
    public var committedEntries: [Entry] = []
    /// Confirmed linearizable reads.
    public var readStates: [ReadState] = []
    /// The node's role when the `Ready` was made.
    public var role: Role
    /// The leader known when the `Ready` was made.
    public var leader: NodeID?

    /// Whether there is nothing to do.
    public var isEmpty: Bool {
        hardState == nil && snapshot == nil && entries.isEmpty && messages.isEmpty
            && messagesAfterPersist.isEmpty && committedEntries.isEmpty && readStates.isEmpty
    }

    /// Whether step 1 has anything to make durable (if not, the fsync is
    /// skipped).
    public var needsPersistence: Bool {
        hardState != nil || snapshot != nil || !entries.isEmpty
    }

    /// Whether the only change to make durable is a higher commit index, with
    /// the term and vote of `previous` (the hard state of the `Ready` before
    /// this one). The commit index needs no fsync before apply: entries are
    /// committed once a quorum holds them, and after a restart the commit
    /// index is recomputed (at least the snapshot's index, the leader
    /// re-teaches the rest). So the runtime may apply and advance such a
    /// `Ready` at once and let the write ride with the next batch (see
    /// ``RaftReplica/advance(_:)``).
    public func onlyAdvancesCommit(after previous: HardState) -> Bool {
        guard let hardState, snapshot == nil, entries.isEmpty else { return false }
        return hardState.term == previous.term && hardState.vote == previous.vote
    }
}
