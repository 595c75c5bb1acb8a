/// A binary min-heap of deliveries ordered by due tick, then sequence: the order in which
/// the network hands messages out.
struct MessageQueue<Payload: Sendable>: Sendable {
    private var heap: [Delivery<Payload>] = []

    var count: Int { heap.count }

    var first: Delivery<Payload>? { heap.first }

    mutating func insert(_ delivery: Delivery<Payload>) {
        heap.append(delivery)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func removeFirst() -> Delivery<Payload>? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    mutating func removeAll() {
        heap.removeAll()
    }

    private static func precedes(_ lhs: Delivery<Payload>, _ rhs: Delivery<Payload>) -> Bool {
        (lhs.dueAt, lhs.sequence) < (rhs.dueAt, rhs.sequence)
    }
}
