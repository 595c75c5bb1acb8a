/// Structural checks on a message from the network, before any of its fields
/// is used for arithmetic or indexing.
extension Message {
    /// Terms and indexes above this are treated as corrupt. Real clusters
    /// never come near it, and the margin makes `+ 1` and additions of entry
    /// counts safe from overflow.
    static let saneLimit: UInt64 = 1 << 62

    /// Whether the message is internally consistent.
    var isWellFormed: Bool {
        guard from != 0, to != 0, from != to else { return false }
        let limit = Message.saneLimit
        guard term < limit, logTerm < limit, index < limit, commit < limit, rejectHint < limit, context < limit else {
            return false
        }
        if let snapshot {
            guard snapshot.index < limit, snapshot.term < limit, snapshot.term <= term,
                  !snapshot.configuration.voters.isEmpty else { return false }
        }
        if kind == .snapshot && snapshot == nil { return false }
        guard !entries.isEmpty else { return true }
        guard kind == .append, logTerm <= term else { return false }
        // Entries follow the previous index consecutively, with terms that
        // never decrease, start no lower than the previous entry's, and never
        // exceed the sender's term.
        var expectedIndex = index + 1
        var previousTerm = logTerm
        for entry in entries {
            guard entry.index == expectedIndex, entry.term >= previousTerm, entry.term <= term else { return false }
            expectedIndex += 1
            previousTerm = entry.term
        }
        return true
    }
}
