import ArgumentParser
import Foundation
import Histogram
import Synchronization
import WAL

struct StressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Append to a log as fast as it durably can, and report what the disk sustains.",
        discussion: """
            Opens (and so recovers) DIR and continues after its last index. Every payload is \
            derived from its index, so all existing records are checked first: a mismatch is \
            reported as corruption (exit 1). With --ack-stream, a line `ack N` is printed once \
            every index up to N is durable. With --compare-raw, a plain pwrite+fdatasync loop \
            and a buffered sequential write run in the same directory afterwards, so the log \
            is measured against the raw disk in one run.

            Exit status: 0 ok, 1 corruption found, 2 an I/O error (a full disk, say), 64 a \
            usage error.
            """)

    @Argument(help: "The log directory.")
    var directory: String

    @Option(parsing: .unconditional, help: "Payload bytes per record.")
    var recordSize = 256

    @Option(parsing: .unconditional, help: "Concurrent producers.")
    var concurrency = 64

    @Option(parsing: .unconditional, help: "Records per append call.")
    var batch = 1

    @Option(parsing: .unconditional, help: "How long to run, such as 10s, 500ms or 2m (default 10s unless --records is given).")
    var duration: String?

    @Option(parsing: .unconditional, help: "How many records to append.")
    var records: UInt64?

    @Option(parsing: .unconditional, help: "Segment size in MiB.")
    var segmentSize = 64

    @Flag(help: "Print `ack N` as soon as every index up to N is durable.")
    var ackStream = false

    @Flag(help: "Print the results as one JSON object.")
    var json = false

    @Flag(help: "Also measure a raw pwrite+fdatasync loop and a buffered sequential write in DIR.")
    var compareRaw = false

    func validate() throws {
        guard recordSize >= 8 else { throw ValidationError("--record-size must be at least 8") }
        guard recordSize <= WALOptions.largestPayloadSize else {
            throw ValidationError(
                "--record-size must be at most \(WALOptions.largestPayloadSize), the largest record the log's format holds")
        }
        guard concurrency >= 1, batch >= 1 else { throw ValidationError("--concurrency and --batch must be positive") }
        if let duration, Duration(argument: duration) == nil {
            throw ValidationError("--duration takes a positive number with ms, s or m, at most 1000000s, such as 10s")
        }
        guard segmentSize >= 1 else { throw ValidationError("--segment-size must be positive") }
        guard segmentSize <= Self.maxSegmentMebibytes else {
            throw ValidationError("--segment-size must be at most \(Self.maxSegmentMebibytes) (MiB)")
        }
    }

    func run() async throws {
        var options = WALOptions()
        options.segmentSize = segmentSize << 20
        options.maxPayloadSize = max(options.maxPayloadSize, recordSize)
        let log: WriteAheadLog<PosixFileSystem>
        do {
            log = try WriteAheadLog(directory: directory, fileSystem: PosixFileSystem(), options: options)
        } catch {
            printError("wal stress: cannot open \(directory): \(error)")
            throw ExitCode(error.isCorruption ? 1 : 2)
        }
        let verified = try verifyExisting(log)
        let limit: Duration? =
            records == nil || duration != nil ? Duration(argument: duration ?? "10s") : nil
        let run = StressRun(
            log: log, recordSize: recordSize, batch: batch, records: records, duration: limit,
            ackStream: ackStream)
        let outcome = await run.execute(producers: concurrency)
        let statistics = log.statistics
        await log.close()
        if let failure = outcome.failure {
            printError("wal stress: append failed: \(failure)")
        }
        var report = StressReport(
            recovered: log.recoveryReport, verified: verified, outcome: outcome, statistics: statistics,
            recordSize: recordSize, concurrency: concurrency, batch: batch)
        var baselineFailed = false
        if compareRaw {
            // The log's figures stand on their own: a baseline that fails (a full disk) is
            // reported beside them, not in their place.
            do {
                report.raw = try RawDiskBaseline(directory: directory).measure(
                    recordSize: recordSize * batch, syncLoopDuration: min(outcome.elapsed, .seconds(5)),
                    sequentialBytes: min(outcome.payloadBytes, 1 << 30))
            } catch {
                printError("wal stress: the raw-disk baseline failed: \(error)")
                baselineFailed = true
            }
        }
        print(json ? report.json : report.table)
        if outcome.failure != nil || baselineFailed { throw ExitCode(2) }
    }

    /// Reads every existing record and checks its payload. Returns how many were checked.
    private func verifyExisting(_ log: WriteAheadLog<PosixFileSystem>) throws -> UInt64 {
        guard log.lastIndex >= log.firstIndex else { return 0 }
        do {
            let reader = try log.makeReader(from: log.firstIndex, through: log.lastIndex)
            var count: UInt64 = 0
            while let entry = try reader.next() {
                guard StressPayload.matches(entry.payload, index: entry.index) else {
                    printError("wal stress: corruption: record \(entry.index) does not hold its expected payload")
                    throw ExitCode(1)
                }
                count += 1
            }
            return count
        } catch let error as WALError {
            printError("wal stress: \(error)")
            throw ExitCode(error.isCorruption ? 1 : 2)
        }
    }

    /// The largest segment `--segment-size` takes, in MiB (1 TiB): beyond it the size in
    /// bytes is no longer a useful segment, and far enough below `Int.max` not to overflow.
    static let maxSegmentMebibytes = 1 << 20
}

extension WALError {
    var isCorruption: Bool {
        switch self {
        case .corruption, .unsupportedVersion: return true
        default: return false
        }
    }
}
