import Synchronization

/// The file offsets of every `indexInterval`-th entry of one segment.
///
/// Shared by reference between the writer, which appends as batches land, and readers,
/// which look offsets up: as a value inside each published view it would be copied on every
/// batch, an O(segment length) cost per fdatasync.
final class CheckpointTable: Sendable {
    private let offsets = Mutex<[Int64]>([])

    init() {}

    var count: Int { offsets.withLock { $0.count } }

    func append(_ offset: Int64) {
        offsets.withLock { $0.append(offset) }
    }

    func append(contentsOf more: [Int64]) {
        offsets.withLock { $0 += more }
    }

    /// The offset in `slot`, or in the last slot there is if a truncation removed it since
    /// the caller's view was taken (scanning forward from an earlier entry is still correct);
    /// nil if there is none.
    func offset(atOrBefore slot: Int) -> Int64? {
        offsets.withLock { $0.isEmpty ? nil : $0[min(slot, $0.count - 1)] }
    }

    func keepFirst(_ count: Int) {
        offsets.withLock { $0.removeSubrange(min(count, $0.count)...) }
    }
}
