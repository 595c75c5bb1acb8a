/// Read-only access to the durable part of the log.
///
/// The runtime writes to it (from ``Ready``) and the core only reads it, so the
/// core's memory does not grow with the log's length. The storage holds an
/// optional snapshot followed by the entries `firstIndex...lastIndex`; when
/// there are no entries, `lastIndex == firstIndex - 1 == snapshot.index`.
public protocol LogStorage {
    /// The latest snapshot (index 0 when there is none).
    var snapshot: SnapshotMetadata { get }
    /// The index of the first entry still stored: `snapshot.index + 1`.
    var firstIndex: UInt64 { get }
    /// The index of the last entry stored, or `snapshot.index` when empty.
    var lastIndex: UInt64 { get }
    /// The term of the entry at `index`, for `snapshot.index...lastIndex`;
    /// `nil` outside that range.
    func term(at index: UInt64) -> UInt64?
    /// The entries in `range`, which lies within `firstIndex...lastIndex`,
    /// stopping once their total ``Entry/byteSize`` exceeds `maxBytes` but
    /// always returning at least one entry for a non-empty range.
    func entries(in range: Range<UInt64>, maxBytes: Int) -> [Entry]
}
