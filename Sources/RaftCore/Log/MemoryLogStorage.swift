/// A ``LogStorage`` that keeps everything in memory, for tests, simulations and
/// benchmarks. It stands in for the runtime's write-ahead log, so it also
/// keeps the persisted ``HardState``.
///
/// It is a value type: a ``RaftReplica`` holds it in its `storage` property and
/// the driver persists a ``Ready`` into it through that property.
public struct MemoryLogStorage: LogStorage, Sendable, Hashable {
    /// The latest snapshot (index 0 when there is none).
    public private(set) var snapshot: SnapshotMetadata
    /// The persisted hard state.
    public var hardState: HardState
    /// The stored entries, `firstIndex...lastIndex`.
    public private(set) var storedEntries: [Entry]

    /// Creates an empty log for a fresh cluster whose members start with
    /// `configuration`.
    public init(configuration: Configuration) {
        snapshot = SnapshotMetadata(index: 0, term: 0, configuration: configuration)
        hardState = HardState()
        storedEntries = []
    }

    /// `snapshot.index + 1`.
    public var firstIndex: UInt64 { snapshot.index + 1 }

    /// The last stored index, or the snapshot's when there are no entries.
    public var lastIndex: UInt64 { snapshot.index + UInt64(storedEntries.count) }

    /// The term at `index`, for `snapshot.index...lastIndex`.
    public func term(at index: UInt64) -> UInt64? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return storedEntries[Int(index - firstIndex)].term
    }

    /// The entries in `range`, bounded by `maxBytes` (at least one).
    public func entries(in range: Range<UInt64>, maxBytes: Int) -> [Entry] {
        let lower = max(range.lowerBound, firstIndex)
        let upper = min(range.upperBound, lastIndex + 1)
        guard lower < upper else { return [] }
        var result: [Entry] = []
        var bytes = 0
        for offset in Int(lower - firstIndex)..<Int(upper - firstIndex) {
            let entry = storedEntries[offset]
            bytes += entry.byteSize
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
        }
        return result
    }

    /// Persists `entries`: any stored entry at or after the first new index is
    /// replaced, as a conflict resolution in ``Ready/entries`` requires.
    public mutating func append(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        if first.index <= snapshot.index {
            // Entries already covered by the snapshot are redundant.
            let skip = Int(snapshot.index - first.index + 1)
            guard skip < entries.count else { return }
            append(Array(entries[skip...]))
            return
        }
        let keep = Int(min(first.index - firstIndex, UInt64(storedEntries.count)))
        storedEntries.removeSubrange(keep...)
        storedEntries.append(contentsOf: entries)
    }

    /// Installs a snapshot received from the leader: the whole log is
    /// replaced, since the core asks for an install only when its log does not
    /// already contain the snapshot's last entry.
    public mutating func install(_ snapshot: SnapshotMetadata) {
        self.snapshot = snapshot
        storedEntries = []
    }

    /// Compacts the log through `index` (which must be applied and stored),
    /// recording a local snapshot with `configuration`.
    public mutating func compact(through index: UInt64, configuration: Configuration) {
        guard index > snapshot.index, index <= lastIndex, let term = term(at: index) else { return }
        storedEntries.removeFirst(Int(index - snapshot.index))
        snapshot = SnapshotMetadata(index: index, term: term, configuration: configuration)
    }
}
