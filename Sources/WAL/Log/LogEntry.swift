/// One record of the log: an opaque payload at an index, written in a term.
///
/// The WAL knows nothing of what the payload means; Raft stores its entries here, and any
/// other user can store whatever it likes.
public struct LogEntry: Sendable, Hashable {
    /// The entry's position in the log. Indexes are contiguous and start at 1.
    public var index: UInt64
    /// The term the entry was written in.
    public var term: UInt64
    /// The caller's bytes.
    public var payload: [UInt8]

    /// Creates an entry.
    public init(index: UInt64, term: UInt64, payload: [UInt8]) {
        self.index = index
        self.term = term
        self.payload = payload
    }
}
