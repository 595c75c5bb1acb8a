import Histogram
import Synchronization
import WAL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The producers of `wal stress`: each appends batches until the record budget or the
/// deadline runs out, and times every append from enqueue to durable completion.
final class StressRun: Sendable {
    struct Outcome {
        var records: UInt64 = 0
        var payloadBytes: Int = 0
        var elapsed: Duration = .zero
        var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var failure: WALError?
    }

    private struct Shared {
        var nextIndex: UInt64
        var issued: UInt64 = 0
    }

    let log: WriteAheadLog<PosixFileSystem>
    let recordSize: Int
    let batch: Int
    let records: UInt64?
    let duration: Duration?
    let ackStream: Bool
    private let shared: Mutex<Shared>

    init(
        log: WriteAheadLog<PosixFileSystem>, recordSize: Int, batch: Int, records: UInt64?, duration: Duration?,
        ackStream: Bool
    ) {
        self.log = log
        self.recordSize = recordSize
        self.batch = batch
        self.records = records
        self.duration = duration
        self.ackStream = ackStream
        self.shared = Mutex(Shared(nextIndex: log.lastIndex + 1))
    }

    func execute(producers: Int) async -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = duration.map { start + $0 }
        var total = await withTaskGroup(of: Outcome.self) { group in
            for _ in 0..<producers {
                group.addTask { await self.produce(deadline: deadline, clock: clock) }
            }
            var total = Outcome()
            for await part in group {
                total.records += part.records
                total.payloadBytes += part.payloadBytes
                total.latency.add(part.latency)
                total.failure = total.failure ?? part.failure
            }
            return total
        }
        total.elapsed = clock.now - start
        return total
    }

    /// One producer's state. Its appends are chained: each completion, on the log's thread,
    /// records the result and enqueues the next append, so a lone producer costs the log no
    /// thread hand-off, as a Raft runtime driving the log from its completions would not.
    /// Only one append is outstanding per producer, so completions touch it one at a time.
    private final class Producer: @unchecked Sendable {
        var outcome = Outcome()
        var began: ContinuousClock.Instant
        private var done: CheckedContinuation<Outcome, Never>?

        init(began: ContinuousClock.Instant, done: CheckedContinuation<Outcome, Never>) {
            self.began = began
            self.done = done
        }

        func finish() {
            done?.resume(returning: outcome)
            done = nil
        }
    }

    private func produce(deadline: ContinuousClock.Instant?, clock: ContinuousClock) async -> Outcome {
        await withCheckedContinuation { continuation in
            appendNext(Producer(began: clock.now, done: continuation), deadline: deadline, clock: clock)
        }
    }

    private func appendNext(_ producer: Producer, deadline: ContinuousClock.Instant?, clock: ContinuousClock) {
        guard deadline.map({ clock.now < $0 }) ?? true else { return producer.finish() }
        producer.began = clock.now
        // Indexes are taken and enqueued under one lock, so appends reach the log in order.
        let appended: (entries: [LogEntry], last: UInt64)? = shared.withLock { state in
            let count = records.map { min(UInt64(batch), $0 - state.issued) } ?? UInt64(batch)
            guard count > 0 else { return nil }
            let first = state.nextIndex
            state.nextIndex += count
            state.issued += count
            let entries = (first..<(first + count)).map {
                LogEntry(index: $0, term: 1, payload: StressPayload.make(index: $0, size: recordSize))
            }
            log.append(entries) { [self] error in
                completed(producer, count: count, last: first + count - 1, error: error, deadline: deadline, clock: clock)
            }
            return (entries, first + count - 1)
        }
        if appended == nil { producer.finish() }
    }

    private func completed(
        _ producer: Producer, count: UInt64, last: UInt64, error: WALError?, deadline: ContinuousClock.Instant?,
        clock: ContinuousClock
    ) {
        if let error {
            producer.outcome.failure = error
            return producer.finish()
        }
        _ = producer.outcome.latency.record(UInt64((clock.now - producer.began) / .microseconds(1)))
        producer.outcome.records += count
        producer.outcome.payloadBytes += Int(count) * recordSize
        if ackStream {
            let line = "ack \(last)\n"
            _ = line.withCString { write(1, $0, strlen($0)) }
        }
        appendNext(producer, deadline: deadline, clock: clock)
    }
}
