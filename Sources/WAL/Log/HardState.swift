/// The state a Raft node must never forget: its current term, its vote in that term, and
/// the highest index it knows to be committed.
///
/// The WAL stores it in the same batch (and under the same fsync) as the entries it is
/// appended with, so the term, the vote and the entries they cover become durable together.
public struct HardState: Sendable, Hashable {
    /// The current term.
    public var term: UInt64
    /// The node voted for in `term`, or 0 for none.
    public var vote: UInt64
    /// The highest index known to be committed.
    public var commit: UInt64

    /// Creates a hard state.
    public init(term: UInt64, vote: UInt64, commit: UInt64) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    func encode(into base: UnsafeMutableRawPointer) {
        base.storeLittleEndian(term, at: 0)
        base.storeLittleEndian(vote, at: 8)
        base.storeLittleEndian(commit, at: 16)
    }

    init(decoding base: UnsafeRawPointer) {
        self.init(
            term: base.loadLittleEndian(at: 0, as: UInt64.self),
            vote: base.loadLittleEndian(at: 8, as: UInt64.self),
            commit: base.loadLittleEndian(at: 16, as: UInt64.self))
    }
}
