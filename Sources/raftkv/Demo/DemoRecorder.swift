import RaftKV
import Synchronization

/// Everything the demo's clients saw, recorded as operations finish: the history the
/// linearizability checker reads, the writes that must survive, and the figures per interval
/// that the progress line and the timeline show.
final class DemoRecorder: Sendable {
    /// One `INCR` of a counter key, as its client saw it.
    struct Increment: Sendable {
        var invokedAt: UInt64
        var completedAt: UInt64?
        var result: Int64?
    }

    /// The figures of one interval of ``bucketNanoseconds``.
    struct Bucket: Sendable {
        var succeeded = 0
        var failed = 0
        var latencies: [UInt64] = []
    }

    static let bucketNanoseconds: UInt64 = 100_000_000

    let start = ContinuousClock.now
    /// Set when the load ends: the clients finish the operation they are in and stop.
    let loadStopped = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var history: [HistoryOperation] = []
        var increments: [String: [Increment]] = [:]
        var acknowledgedLedger: [String: String] = [:]
        var buckets: [Bucket] = []
        var latencies: [UInt64] = []
    }

    /// Nanoseconds since the recorder was made.
    var now: UInt64 {
        (ContinuousClock.now - start).inNanoseconds
    }

    func record(_ operation: HistoryOperation) {
        state.withLock { $0.history.append(operation) }
    }

    /// Notes an increment's invocation; returns the handle to complete it with.
    func invokeIncrement(of key: String, at time: UInt64) -> Int {
        state.withLock { state in
            state.increments[key, default: []].append(Increment(invokedAt: time))
            return state.increments[key]!.count - 1
        }
    }

    func completeIncrement(of key: String, handle: Int, result: Int64, at time: UInt64) {
        state.withLock { state in
            state.increments[key]![handle].completedAt = time
            state.increments[key]![handle].result = result
        }
    }

    /// A write to a key written once only, acknowledged: it must be on every node at the end.
    func acknowledgeLedgerWrite(key: String, value: String) {
        state.withLock { $0.acknowledgedLedger[key] = value }
    }

    /// An operation that got an answer in `latency` nanoseconds, `succeeded` or not, at `time`.
    func count(succeeded: Bool, latency: UInt64, at time: UInt64) {
        let index = Int(time / Self.bucketNanoseconds)
        state.withLock { state in
            while state.buckets.count <= index { state.buckets.append(Bucket()) }
            if succeeded {
                state.buckets[index].succeeded += 1
                state.buckets[index].latencies.append(latency)
                state.latencies.append(latency)
            } else {
                state.buckets[index].failed += 1
            }
        }
    }

    var history: [HistoryOperation] { state.withLock { $0.history } }
    var increments: [String: [Increment]] { state.withLock { $0.increments } }
    var acknowledgedLedger: [String: String] { state.withLock { $0.acknowledgedLedger } }
    var buckets: [Bucket] { state.withLock { $0.buckets } }
    var allLatencies: [UInt64] { state.withLock { $0.latencies } }

    /// Operations answered successfully per second, and their p99, over the last `window`
    /// nanoseconds.
    func recentRate(window: UInt64 = 1_000_000_000) -> (perSecond: Double, p99: UInt64?) {
        let end = now
        let first = Int(end > window ? (end - window) / Self.bucketNanoseconds : 0)
        let last = Int(end / Self.bucketNanoseconds)
        return state.withLock { state in
            var count = 0
            var latencies: [UInt64] = []
            // The buckets reach only as far as the last operation answered: during an
            // outage the window can start beyond them.
            for index in first..<max(first, min(last, state.buckets.count)) {
                count += state.buckets[index].succeeded
                latencies += state.buckets[index].latencies
            }
            let span = Double(max(1, last - first)) * Double(Self.bucketNanoseconds) / 1e9
            return (Double(count) / span, Percentile.of(latencies, 0.99))
        }
    }
}
