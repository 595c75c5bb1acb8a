/// A message between two nodes. Fields a kind does not use are zero or empty.
///
/// Everything here comes from the network and is validated before use: a
/// message that is malformed or inconsistent is dropped and counted in
/// ``RaftStatus/droppedMessages``, never trusted.
public struct Message: Sendable, Hashable {
    /// What the message is.
    public var kind: MessageKind
    /// The sender.
    public var from: NodeID
    /// The recipient.
    public var to: NodeID
    /// The sender's term (for granted pre-votes, the term asked about).
    public var term: UInt64
    /// A log term: the previous entry's (append), the last entry's (votes), or
    /// the hint's (rejections).
    public var logTerm: UInt64
    /// A log index; see ``MessageKind`` for its meaning per kind.
    public var index: UInt64
    /// The entries carried by an append.
    public var entries: [Entry]
    /// The sender's commit index (append, heartbeat).
    public var commit: UInt64
    /// Whether a response refuses the request.
    public var reject: Bool
    /// For a rejected append, the follower's suggested match index.
    public var rejectHint: UInt64
    /// The snapshot described by a ``MessageKind/snapshot`` message.
    public var snapshot: SnapshotMetadata?
    /// The read round a heartbeat confirms (0 for none).
    public var context: UInt64
    /// The caller's context of a forwarded read.
    public var readContext: [UInt8]
    /// Whether a vote request comes from a leadership transfer, which may
    /// disturb a leader that is still in its lease.
    public var isLeadershipTransfer: Bool

    /// Creates a message.
    public init(
        kind: MessageKind,
        from: NodeID,
        to: NodeID,
        term: UInt64,
        logTerm: UInt64 = 0,
        index: UInt64 = 0,
        entries: [Entry] = [],
        commit: UInt64 = 0,
        reject: Bool = false,
        rejectHint: UInt64 = 0,
        snapshot: SnapshotMetadata? = nil,
        context: UInt64 = 0,
        readContext: [UInt8] = [],
        isLeadershipTransfer: Bool = false
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.context = context
        self.readContext = readContext
        self.isLeadershipTransfer = isLeadershipTransfer
    }

    /// Whether the message may only leave once the state it reports is
    /// durable: vote replies and append/snapshot acknowledgements
    /// (persistence contract, clause 1).
    public var requiresPersistence: Bool {
        kind == .voteResponse || kind == .appendResponse
    }
}
