/// A node's role in the current term.
public enum Role: Sendable, Hashable {
    /// Follows a leader (or waits for one).
    case follower
    /// Asking, without changing its term, whether it could win an election.
    case preCandidate
    /// Campaigning in a new term.
    case candidate
    /// Leading the current term.
    case leader
}
