import Foundation
import WAL

/// The results of `wal stress`, as a table or as JSON.
struct StressReport {
    let recovered: RecoveryReport
    let verified: UInt64
    let outcome: StressRun.Outcome
    let statistics: WALStatistics
    let recordSize: Int
    let concurrency: Int
    let batch: Int
    var raw: RawDiskBaseline.Result?

    private var seconds: Double { outcome.elapsed.inSeconds }
    private var recordsPerSecond: Double { Double(outcome.records) / max(seconds, 1e-9) }
    private var megabytesPerSecond: Double { Double(outcome.payloadBytes) / max(seconds, 1e-9) / 1e6 }
    private var meanBatch: Double { Double(statistics.entries) / Double(max(statistics.syncs, 1)) }
    private func percentile(_ value: Double) -> UInt64 { outcome.latency.totalCount == 0 ? 0 : outcome.latency.valueAtPercentile(value) }

    var fields: [(String, Any)] {
        var fields: [(String, Any)] = [
            ("recovered_last_index", recovered.lastIndex),
            ("recovered_torn_tail_bytes", recovered.tornTail?.droppedBytes ?? 0),
            ("verified_records", verified),
            ("record_size", recordSize),
            ("concurrency", concurrency),
            ("batch", batch),
            ("records", outcome.records),
            ("seconds", (seconds * 1000).rounded() / 1000),
            ("records_per_second", recordsPerSecond.rounded()),
            ("megabytes_per_second", (megabytesPerSecond * 10).rounded() / 10),
            ("fsyncs", statistics.syncs),
            ("batches_written", statistics.batches),
            ("mean_records_per_fsync", (meanBatch * 10).rounded() / 10),
            ("latency_p50_us", percentile(50)),
            ("latency_p99_us", percentile(99)),
            ("latency_p999_us", percentile(99.9)),
        ]
        if let raw {
            fields += [
                ("raw_sync_writes_per_second", raw.syncWritesPerSecond.rounded()),
                ("raw_sequential_megabytes_per_second", (raw.sequentialMegabytesPerSecond * 10).rounded() / 10),
                ("ratio_to_raw_sync_loop", (recordsPerSecond / Double(batch) / raw.syncWritesPerSecond * 1000).rounded() / 1000),
                ("ratio_to_raw_sequential", (megabytesPerSecond / raw.sequentialMegabytesPerSecond * 1000).rounded() / 1000),
            ]
        }
        if let failure = outcome.failure { fields.append(("failure", "\(failure)")) }
        return fields
    }

    var json: String {
        let object = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    var table: String {
        let width = fields.map(\.0.count).max() ?? 0
        return fields.map { key, value in
            key.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(value)"
        }.joined(separator: "\n")
    }
}
