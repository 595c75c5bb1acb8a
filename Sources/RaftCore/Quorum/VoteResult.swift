/// The outcome of counting votes (or acknowledgements) against a quorum.
public enum VoteResult: Sendable, Hashable {
    /// Not decided yet: some voters have not answered.
    case pending
    /// A quorum said no; the election (or check) cannot succeed.
    case lost
    /// A quorum said yes.
    case won
}
