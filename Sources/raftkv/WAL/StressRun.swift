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

    private func produce(deadline: ContinuousClock.Instant?, clock: ContinuousClock) async -> Outcome {
        var outcome = Outcome()
        while deadline.map({ clock.now < $0 }) ?? true {
            let began = clock.now
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<(last: UInt64, count: UInt64, error: WALError?)?, Never>) in
                // Indexes are taken and enqueued under one lock, so appends reach the log in order.
                let enqueued: Bool = shared.withLock { state in
                    let count = records.map { min(UInt64(batch), $0 - state.issued) } ?? UInt64(batch)
                    guard count > 0 else { return false }
                    let first = state.nextIndex
                    state.nextIndex += count
                    state.issued += count
                    let entries = (first..<(first + count)).map {
                        LogEntry(index: $0, term: 1, payload: StressPayload.make(index: $0, size: recordSize))
                    }
                    log.append(entries) { error in continuation.resume(returning: (first + count - 1, count, error)) }
                    return true
                }
                if !enqueued { continuation.resume(returning: nil) }
            }
            guard let (last, count, error) = result else { break }
            if let error {
                outcome.failure = error
                break
            }
            let elapsed = clock.now - began
            _ = outcome.latency.record(UInt64(elapsed / .microseconds(1)))
            outcome.records += count
            outcome.payloadBytes += Int(count) * recordSize
            if ackStream {
                let line = "ack \(last)\n"
                _ = line.withCString { write(1, $0, strlen($0)) }
            }
        }
        return outcome
    }
}
