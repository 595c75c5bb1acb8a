/// What the log knows about one segment file, kept in memory.
///
/// Memory per segment is bounded: one offset for every `indexInterval`-th entry.
struct SegmentInfo: Sendable {
    var header: SegmentHeader
    var name: String
    /// The last live entry in the segment, or `firstIndex - 1` if it has none. A later
    /// truncation segment can lower it; entries after it in the file are then void.
    var lastIndex: UInt64
    /// Slot `k` holds the file offset of entry `firstIndex + k * interval`.
    let checkpoints: CheckpointTable
    /// The offset just past the last committed batch.
    var endOffset: Int64

    var sequence: UInt64 { header.sequence }
    var firstIndex: UInt64 { header.firstIndex }

    func contains(_ index: UInt64) -> Bool { index >= firstIndex && index <= lastIndex }

    /// The file offset of an entry at or before `index`, from which a forward scan finds it.
    func scanStart(for index: UInt64, interval: Int) -> Int64 {
        assert(contains(index))
        return checkpoints.offset(atOrBefore: Int((index - firstIndex) / UInt64(interval))) ?? Int64(SegmentHeader.size)
    }

    /// Records the offset of a newly appended entry, if it falls on a checkpoint.
    func noteEntry(_ index: UInt64, at offset: Int64, interval: Int) {
        if (index - firstIndex) % UInt64(interval) == 0 {
            assert(UInt64(checkpoints.count) == (index - firstIndex) / UInt64(interval))
            checkpoints.append(offset)
        }
    }

    /// Voids every entry after `index`.
    mutating func trim(after index: UInt64, interval: Int) {
        guard index < lastIndex else { return }
        lastIndex = max(index, firstIndex - 1)
        let keep = lastIndex < firstIndex ? 0 : Int((lastIndex - firstIndex) / UInt64(interval)) + 1
        checkpoints.keepFirst(keep)
    }
}
