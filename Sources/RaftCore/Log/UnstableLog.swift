/// The entries (and possibly a snapshot) the core has accepted but the runtime
/// has not yet reported durable.
///
/// Entries with indexes below `offsetInProgress` have been handed out in a
/// ``Ready`` and are being written; they stay here until ``stable(through:term:)``.
struct UnstableLog: Sendable {
    /// A snapshot received from the leader and not yet persisted.
    var snapshot: SnapshotMetadata?
    /// Whether ``snapshot`` has already been handed out in a `Ready`.
    var snapshotInProgress = false
    /// The unpersisted entries; `entries[0].index == offset`.
    var entries: [Entry] = []
    /// The index of `entries[0]` (or of the next entry when empty).
    var offset: UInt64
    /// The first index not yet handed out in a `Ready`.
    var offsetInProgress: UInt64

    init(offset: UInt64) {
        self.offset = offset
        offsetInProgress = offset
    }

    /// The first log index, when a pending snapshot defines it.
    var firstIndexIfKnown: UInt64? { snapshot.map { $0.index + 1 } }

    /// The last log index, when unstable entries or a snapshot define it.
    var lastIndexIfKnown: UInt64? {
        if !entries.isEmpty { return offset + UInt64(entries.count) - 1 }
        return snapshot?.index
    }

    /// The term at `index`, when the unstable part knows it.
    func term(at index: UInt64) -> UInt64? {
        if index < offset {
            guard let snapshot, snapshot.index == index else { return nil }
            return snapshot.term
        }
        guard let last = lastIndexIfKnown, index <= last else { return nil }
        return entries[Int(index - offset)].term
    }

    /// The entries not yet handed out in a `Ready`.
    var entriesNotInProgress: ArraySlice<Entry> {
        let start = Int(min(offsetInProgress - offset, UInt64(entries.count)))
        return entries[start...]
    }

    /// Marks everything currently held as handed out.
    mutating func acceptInProgress() {
        offsetInProgress = offset + UInt64(entries.count)
        if snapshot != nil { snapshotInProgress = true }
    }

    /// Drops entries through `index` once they are durable, but only when the
    /// entry at `index` still has `term`: a conflicting append may have
    /// replaced it since the write began, and the replacement is not durable.
    mutating func stable(through index: UInt64, term: UInt64) {
        guard index >= offset, self.term(at: index) == term else { return }
        entries.removeFirst(Int(index - offset + 1))
        offset = index + 1
        offsetInProgress = max(offsetInProgress, offset)
    }

    /// Drops the pending snapshot once it is durable.
    mutating func stableSnapshot(index: UInt64) {
        guard let snapshot, snapshot.index == index else { return }
        self.snapshot = nil
        snapshotInProgress = false
    }

    /// Replaces everything with a snapshot: the whole log is discarded.
    mutating func restore(_ snapshot: SnapshotMetadata) {
        entries = []
        offset = snapshot.index + 1
        offsetInProgress = offset
        self.snapshot = snapshot
        snapshotInProgress = false
    }

    /// Appends `newEntries` (consecutive), replacing any entry at or after the
    /// first new index.
    mutating func truncateAndAppend(_ newEntries: some Collection<Entry>) {
        guard let first = newEntries.first?.index else { return }
        let end = offset + UInt64(entries.count)
        if first == end {
            entries.append(contentsOf: newEntries)
        } else if first <= offset {
            // The new entries replace the unstable ones and overwrite part of
            // the stored log; the runtime truncates storage when it persists.
            offset = first
            entries = Array(newEntries)
        } else {
            entries.removeSubrange(Int(first - offset)...)
            entries.append(contentsOf: newEntries)
        }
        offsetInProgress = min(offsetInProgress, first)
    }

    /// The unstable entries in `range`, which must lie within them.
    func slice(_ range: Range<UInt64>) -> ArraySlice<Entry> {
        entries[Int(range.lowerBound - offset)..<Int(range.upperBound - offset)]
    }
}
