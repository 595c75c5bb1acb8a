/// The append messages sent to one follower and not yet acknowledged, bounded
/// both by count and by bytes so a slow follower cannot make the leader buffer
/// without limit.
struct Inflights: Sendable {
    /// The last index of each in-flight message and its size, oldest first,
    /// in a ring buffer.
    private var ring: [(index: UInt64, bytes: Int)]
    private var start = 0
    private(set) var count = 0
    private(set) var bytes = 0
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = max(1, maxCount)
        self.maxBytes = max(1, maxBytes)
        ring = []
    }

    /// Whether no more messages may be sent until some are acknowledged.
    var isFull: Bool { count >= maxCount || bytes >= maxBytes }

    /// Records a message whose last entry is `index`.
    mutating func add(index: UInt64, bytes size: Int) {
        assert(count < maxCount, "sent to a follower whose window is full")
        guard count < maxCount else { return }
        if ring.isEmpty {
            // Allocate on first use: idle followers cost nothing.
            ring = Array(repeating: (0, 0), count: maxCount)
        }
        let slot = (start + count) % ring.count
        ring[slot] = (index, size)
        count += 1
        bytes += size
    }

    /// Forgets every message whose last index is `<= index`.
    mutating func free(through index: UInt64) {
        while count > 0, ring[start].index <= index {
            bytes -= ring[start].bytes
            start = (start + 1) % ring.count
            count -= 1
        }
        if count == 0 { start = 0 }
    }

    mutating func reset() {
        start = 0
        count = 0
        bytes = 0
    }
}
