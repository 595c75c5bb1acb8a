/// Tunables of a ``RaftReplica``. Times are counted in ``RaftReplica/tick()``s.
public struct RaftOptions: Sendable, Hashable {
    /// T: a follower campaigns after a random timeout in `[T, 2T)` ticks
    /// without hearing from a leader; a leader checks its quorum every T.
    public var electionTicks: Int
    /// A leader sends heartbeats every this many ticks (less than T).
    public var heartbeatTicks: Int
    /// Whether to run a pre-vote before each election, so a node that was cut
    /// off cannot depose a healthy leader by raising the term.
    public var preVote: Bool
    /// Whether a leader steps down when it has not heard from a quorum within
    /// an election timeout, and followers ignore vote requests while they
    /// still hear from a leader.
    public var checkQuorum: Bool
    /// At most this many unacknowledged appends per follower.
    public var maxInflightMessages: Int
    /// At most this many unacknowledged entry bytes per follower.
    public var maxInflightBytes: Int
    /// The entry bytes in one append message (at least one entry is sent).
    public var maxMessageBytes: Int
    /// The entry bytes handed to the application in one ``Ready``.
    public var maxCommittedBytesPerReady: Int
    /// A leadership transfer that has not completed within this many ticks is
    /// abandoned and the leader accepts proposals again.
    public var transferTimeoutTicks: Int

    /// Creates options; the defaults suit a LAN with 100 ms ticks.
    public init(
        electionTicks: Int = 10,
        heartbeatTicks: Int = 1,
        preVote: Bool = true,
        checkQuorum: Bool = true,
        maxInflightMessages: Int = 256,
        maxInflightBytes: Int = 16 << 20,
        maxMessageBytes: Int = 1 << 20,
        maxCommittedBytesPerReady: Int = 64 << 20,
        transferTimeoutTicks: Int? = nil
    ) {
        self.electionTicks = max(2, electionTicks)
        self.heartbeatTicks = min(max(1, heartbeatTicks), self.electionTicks - 1)
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.maxInflightMessages = max(1, maxInflightMessages)
        self.maxInflightBytes = max(1, maxInflightBytes)
        self.maxMessageBytes = max(1, maxMessageBytes)
        self.maxCommittedBytesPerReady = max(1, maxCommittedBytesPerReady)
        self.transferTimeoutTicks = max(1, transferTimeoutTicks ?? self.electionTicks)
    }
}
