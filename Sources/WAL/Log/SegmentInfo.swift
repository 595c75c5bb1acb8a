/// What the log knows about one segment file, kept in memory.
///
/// Memory per segment is bounded: one offset for every `indexInterval`-th entry.
struct SegmentInfo: Sendable {
    var header: SegmentHeader
    var name: String
    /// The last live entry in the segment, or `firstIndex - 1` if it has none. A later
    /// truncation segment can lower it; entries after it in the file are then void.
    var lastIndex: UInt64
    /// `checkpoints[k]` is the file offset of entry `firstIndex + k * interval`.
    var checkpoints: [Int64]
    /// The offset just past the last committed batch.
    var endOffset: Int64

    var sequence: UInt64 { header.sequence }
    var firstIndex: UInt64 { header.firstIndex }
    var entryCount: UInt64 { lastIndex + 1 - firstIndex }

    func contains(_ index: UInt64) -> Bool { index >= firstIndex && index <= lastIndex }

    /// Offset of the nearest checkpoint at or before `index`, and that checkpoint's index.
    func checkpoint(atOrBefore index: UInt64, interval: Int) -> (index: UInt64, offset: Int64) {
        assert(contains(index))
        let slot = min(Int((index - firstIndex) / UInt64(interval)), checkpoints.count - 1)
        return (firstIndex + UInt64(slot) * UInt64(interval), checkpoints[slot])
    }

    /// Records the offset of a newly appended entry, if it falls on a checkpoint.
    mutating func noteEntry(_ index: UInt64, at offset: Int64, interval: Int) {
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
        checkpoints.removeSubrange(keep...)
    }
}
