/// The kinds of message Raft nodes exchange.
public enum MessageKind: UInt8, Sendable, Hashable {
    /// AppendEntries: `index`/`logTerm` are the previous entry, `commit` the
    /// leader's commit index.
    case append
    /// The reply to ``append`` or ``snapshot``: on success `index` is the last
    /// index now matching; on rejection `index` is the rejected previous index
    /// and `rejectHint`/`logTerm` say where the follower's log may match.
    /// `commit` is the follower's commit index, durable when the reply leaves.
    case appendResponse
    /// A leader's heartbeat; `commit` is capped by what the follower has, and
    /// `context` is the read round being confirmed (0 for none).
    case heartbeat
    /// The reply to ``heartbeat``, echoing its `context`.
    case heartbeatResponse
    /// RequestVote: `index`/`logTerm` describe the candidate's last entry.
    case vote
    /// The reply to ``vote``; `commit`/`logTerm` are the voter's commit index
    /// and the term of the entry there.
    case voteResponse
    /// A pre-vote: "would you vote for me at `term`?", changing no state.
    case preVote
    /// The reply to ``preVote``, carrying `commit`/`logTerm` like
    /// ``voteResponse``.
    case preVoteResponse
    /// InstallSnapshot, sent once the runtime has streamed the snapshot's
    /// bytes; `snapshot` describes it.
    case snapshot
    /// Tells a leadership-transfer target to campaign at once.
    case timeoutNow
    /// A follower forwarding a read request to its leader; `readContext` is
    /// the caller's context.
    case readIndex
    /// The leader's answer to ``readIndex``: `index` is the read index.
    case readIndexResponse
}
