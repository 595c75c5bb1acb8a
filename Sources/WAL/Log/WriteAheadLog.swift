import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A segmented, append-only write-ahead log with group commit.
///
/// Every record is framed with its length, type, index and term under a CRC32C seeded with a
/// per-file salt; every batch ends in a commit marker. Appends from many callers are
/// coalesced by a writer thread into one vectored write per batch, and a sync thread makes
/// them durable with one `fdatasync`, writing the next batch while the previous one syncs.
/// Callers complete in index order once their batch is durable. The hard state (term, vote, commit) travels in the same batch as the
/// entries it is saved with. See `SegmentHeader`, `RecordFrame` and `LogMetadata` for the
/// byte layout of every file.
///
/// Failure is closed: after any write or sync error, every pending and later call fails with
/// `WALError.failed(cause:)`. The remedy is to reopen the log, which recovers from disk.
///
/// Call `close()` when done: it returns once everything queued is durable and the directory
/// lock is released. Dropping the last reference also drains the queue and stops the
/// threads, but releases the lock only some time later.
public final class WriteAheadLog<FS: FileSystem>: Sendable {
    /// The directory holding the segment files.
    public let directory: String
    /// What recovery found when the log was opened.
    public let recoveryReport: RecoveryReport
    let engine: LogEngine<FS>

    /// Opens the log in `directory`, creating it if needed, and recovers it: every segment is
    /// scanned and checked, a torn uncommitted batch at the very end is cut off, and void
    /// files are removed. Anything else that fails a check is reported as
    /// `WALError.corruption` naming the file and byte offset, and nothing is changed.
    public convenience init(directory: String, fileSystem: FS, options: WALOptions = WALOptions()) throws(WALError) {
        try options.validate()
        do { try fileSystem.createDirectory(directory) } catch { throw WALError(error) }
        let lockPath = directory + "/" + Self.lockFileName
        let lock = try Self.acquireLock(lockPath, fileSystem: fileSystem)
        do {
            try self.init(directory: directory, fileSystem: fileSystem, options: options, lock: lock)
        } catch .threadStartFailed(let number) {
            // The writer owned the lock by then, and finishing it released the lock.
            throw .threadStartFailed(errno: number)
        } catch {
            fileSystem.closeFile(lock)
            throw error
        }
    }

    /// The file whose lock marks the log as open.
    static var lockFileName: String { "LOCK" }

    /// Takes the directory lock, retrying for up to two seconds: a child process forked by
    /// anyone in this process holds a copy of the descriptor, and so the lock, until it
    /// execs, even after this process has closed the log.
    private static func acquireLock(_ path: String, fileSystem: FS) throws(WALError) -> FS.FileHandle {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(2)
        while true {
            do {
                return try fileSystem.lockFile(path)
            } catch where error.code == .locked {
                guard clock.now < deadline else { throw .directoryLocked(path) }
                usleep(5_000)
            } catch {
                throw WALError(error)
            }
        }
    }

    private init(directory: String, fileSystem: FS, options: WALOptions, lock: FS.FileHandle) throws(WALError) {
        self.directory = directory
        var outcome = try Recovery(fileSystem: fileSystem, directory: directory, options: options).run()
        try Self.repair(&outcome, fileSystem: fileSystem, directory: directory, options: options)
        let writer = try SegmentWriter(
            fileSystem: fileSystem, directory: directory, options: options, segments: outcome.segments,
            firstIndex: outcome.firstIndex, hardState: outcome.hardState, nextSequence: outcome.nextSequence,
            lock: lock)
        self.recoveryReport = outcome.report
        self.engine = LogEngine(fileSystem: fileSystem, directory: directory, options: options, writer: writer)
        try engine.start()
        if let torn = outcome.report.tornTail {
            options.logger.warning(
                "dropped a torn, uncommitted batch at the end of the log",
                metadata: ["file": "\(torn.file)", "offset": "\(torn.offset)", "bytes": "\(torn.droppedBytes)"])
        }
    }

    deinit {
        engine.close {}
    }

    /// Checks the log in `directory` without changing anything, and reports what opening it
    /// would find. Throws `WALError.corruption` naming the file and offset of any damage.
    public static func verify(
        directory: String, fileSystem: FS, options: WALOptions = WALOptions()
    ) throws(WALError) -> RecoveryReport {
        try options.validate()
        return try Recovery(fileSystem: fileSystem, directory: directory, options: options).run().report
    }

    /// Makes what recovery found durable: cuts the torn tail, deletes void files, and starts
    /// a segment where none can take appends.
    private static func repair(
        _ outcome: inout Recovery<FS>.Outcome, fileSystem: FS, directory: String, options: WALOptions
    ) throws(WALError) {
        do {
            if let torn = outcome.report.tornTail {
                let file = try fileSystem.openFile(torn.file, mode: .readWrite)
                defer { fileSystem.closeFile(file) }
                try fileSystem.truncate(file, to: torn.offset)
                try fileSystem.synchronize(file)
            }
            for name in outcome.obsoleteFiles {
                try fileSystem.removeFile(directory + "/" + name)
            }
            if !outcome.obsoleteFiles.isEmpty { try fileSystem.synchronizeDirectory(directory) }
        } catch {
            throw WALError(error)
        }
        outcome.report.removedFiles = outcome.obsoleteFiles
        // An empty directory, or a log cut short by truncatePrefix past its end before the
        // restarting segment was created: appends must begin at the first index.
        if outcome.segments.isEmpty || outcome.segments[outcome.segments.count - 1].lastIndex < outcome.firstIndex - 1 {
            let segment = try SegmentWriter<FS>.createSegment(
                fileSystem: fileSystem, directory: directory, sequence: outcome.nextSequence,
                firstIndex: outcome.firstIndex, isTruncation: false, hardState: outcome.hardState)
            outcome.nextSequence += 1
            try LogMetadata(firstIndex: outcome.firstIndex, lastSequence: segment.sequence)
                .write(fileSystem: fileSystem, directory: directory)
            do throws(FileSystemError) {
                for old in outcome.segments { try fileSystem.removeFile(directory + "/" + old.name) }
                if !outcome.segments.isEmpty { try fileSystem.synchronizeDirectory(directory) }
            } catch {
                throw WALError(error)
            }
            outcome.report.removedFiles += outcome.segments.map(\.name)
            outcome.segments = [segment]
        }
    }

    // MARK: State

    /// The largest index an entry (or a snapshot the log continues after) may have.
    public static var largestIndex: UInt64 { SegmentHeader.maxValue - 1 }

    /// The first readable index.
    public var firstIndex: UInt64 { engine.durable.firstIndex }
    /// The last durable index; `firstIndex - 1` when the log is empty.
    public var lastIndex: UInt64 { engine.durable.lastIndex }
    /// The last index accepted by `append`, whether or not it is durable yet.
    public var lastAcceptedIndex: UInt64 { engine.lock.withLock { $0.nextIndex - 1 } }
    /// The durable hard state, if one was ever saved.
    public var hardState: HardState? { engine.durable.hardState }

    /// Counters of the work done since the log was opened.
    public var statistics: WALStatistics { engine.durable.statistics }

    // MARK: Writing

    /// Appends entries, and optionally a hard state, as one atomic batch; returns once they
    /// are durable. The first entry's index must be the one after the last appended (or
    /// queued) entry.
    public func append(_ entries: [LogEntry], hardState: HardState? = nil) async throws(WALError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<WALError?, Never>) in
            engine.enqueueAppend(entries, hardState: hardState) { continuation.resume(returning: $0) }
        }
        if let result { throw result }
    }

    /// Appends entries and calls `completion` once they are durable, or with the error.
    /// For callers that are not async; completions run on the writer thread, in index order,
    /// and must return quickly. Appends beyond `WALOptions.maxBytesInFlight` are held back
    /// until earlier batches are durable, but they are still accepted: a caller that does not
    /// wait for its completions must bound its own outstanding appends.
    public func append(
        _ entries: [LogEntry], hardState: HardState? = nil,
        completion: @escaping @Sendable (WALError?) -> Void
    ) {
        engine.enqueueAppend(entries, hardState: hardState, completion: completion)
    }

    /// Appends payloads at the next free indexes, all in `term`; returns their indexes once
    /// they are durable.
    public func append(payloads: [[UInt8]], term: UInt64) async throws(WALError) -> Range<UInt64> {
        try await withCheckedContinuation { continuation in
            engine.enqueueAppend(payloads: payloads, term: term) { continuation.resume(returning: $0) }
        }.get()
    }

    /// Appends payloads at the next free indexes and calls `completion` with their indexes
    /// once they are durable. Completions run on the writer thread and must return quickly.
    public func append(
        payloads: [[UInt8]], term: UInt64,
        completion: @escaping @Sendable (Result<Range<UInt64>, WALError>) -> Void
    ) {
        engine.enqueueAppend(payloads: payloads, term: term, completion: completion)
    }

    /// Saves a hard state durably, on its own.
    public func save(_ hardState: HardState) async throws(WALError) {
        try await append([], hardState: hardState)
    }

    /// Removes every entry after `index`, durably and crash-safely, before returning. Later
    /// appends continue at `index + 1`.
    public func truncateSuffix(after index: UInt64) async throws(WALError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<WALError?, Never>) in
            engine.enqueueTruncateSuffix(after: index) { continuation.resume(returning: $0) }
        }
        if let result { throw result }
    }

    /// Makes `index + 1` the first index, deleting whole segments that hold only earlier
    /// entries. Truncating past the last index leaves an empty log that continues at
    /// `index + 1` (as after installing a snapshot).
    public func truncatePrefix(through index: UInt64) async throws(WALError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<WALError?, Never>) in
            engine.enqueueTruncatePrefix(through: index) { continuation.resume(returning: $0) }
        }
        if let result { throw result }
    }

    /// Waits for everything queued to finish, then stops the writer. Later calls fail with
    /// `WALError.closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            engine.close { continuation.resume() }
        }
    }

    // MARK: Reading

    /// Reads the durable entry at `index`.
    public func entry(at index: UInt64) throws(WALError) -> LogEntry {
        let reader = try makeReader(from: index, through: index)
        guard let entry = try reader.next() else {
            let view = engine.durable
            throw .indexOutOfRange(index: index, firstIndex: view.firstIndex, lastIndex: view.lastIndex)
        }
        return entry
    }

    /// Reads durable entries in `range`, stopping early once `maxBytes` of payload are read
    /// (at least one entry is always returned).
    public func entries(in range: ClosedRange<UInt64>, maxBytes: Int = .max) throws(WALError) -> [LogEntry] {
        let reader = try makeReader(from: range.lowerBound, through: range.upperBound)
        var entries: [LogEntry] = []
        var bytes = 0
        while let entry = try reader.next() {
            bytes += entry.payload.count
            if !entries.isEmpty && bytes > maxBytes { break }
            entries.append(entry)
        }
        return entries
    }

    /// A streaming reader over durable entries `first...last`, checking every CRC as it goes.
    public func makeReader(from first: UInt64, through last: UInt64) throws(WALError) -> LogReader<FS> {
        let view = engine.durable
        guard first >= view.firstIndex, first <= last, last <= view.lastIndex else {
            let bad = first < view.firstIndex || first > view.lastIndex ? first : last
            throw .indexOutOfRange(index: bad, firstIndex: view.firstIndex, lastIndex: view.lastIndex)
        }
        return LogReader(
            fileSystem: engine.fileSystem, directory: directory, options: engine.options, view: view,
            first: first, last: last)
    }
}
