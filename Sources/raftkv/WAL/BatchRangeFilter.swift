import WAL

/// Chooses the records `wal dump --from/--to` shows.
///
/// An entry is shown when its index is in the range. A hard-state record and a commit marker
/// belong to their batch: they are shown when the batch holds an entry in the range, or, for a
/// batch without entries, when the index the batch follows is in the range (the commit
/// marker's index: the log's last index when the batch was written).
///
/// A batch's hard state comes before its entries, so it is held back until the batch shows
/// whether it is in the range; at most one record is ever held.
struct BatchRangeFilter {
    let range: ClosedRange<UInt64>
    private var heldHardState: RecordSummary?
    private var batchHasEntries = false
    private var batchShown = false
    /// The last entry index (or commit marker index) seen: where a batch without entries sits.
    private var position: UInt64 = 0

    init(range: ClosedRange<UInt64>) {
        self.range = range
    }

    /// Takes the next record in file order and passes to `show` what the range selects.
    mutating func take(_ record: RecordSummary, show: (RecordSummary) -> Void) {
        switch record.kind {
        case .hardState:
            heldHardState = record
        case .entry:
            batchHasEntries = true
            position = record.index
            guard range.contains(record.index) else { return }
            showHeldHardState(show)
            batchShown = true
            show(record)
        case .commit:
            position = record.index
            if batchShown || (!batchHasEntries && range.contains(record.index)) {
                showHeldHardState(show)
                show(record)
            }
            heldHardState = nil
            batchHasEntries = false
            batchShown = false
        }
    }

    /// Ends the listing early, at damage: a hard state whose batch has no entries yet is shown
    /// when the index it follows is in the range.
    mutating func finish(show: (RecordSummary) -> Void) {
        if !batchHasEntries && range.contains(position) { showHeldHardState(show) }
        heldHardState = nil
    }

    private mutating func showHeldHardState(_ show: (RecordSummary) -> Void) {
        if let held = heldHardState { show(held) }
        heldHardState = nil
    }
}
