/// Prepares the log's next segment before it is needed, so that a rollover neither creates a
/// file nor waits for a new inode's first sync while the pipeline stands still (etcd's WAL
/// does the same with its file pipeline).
///
/// What is prepared, for one sequence number:
/// - `<sequence>.prepared.tmp`: zeros as long as the new segment's opening bytes (header and
///   hard-state batch), already synced. At rollover the writer overwrites them in place, syncs
///   (data only: no new inode, no size change for the journal to commit) and renames the file
///   to its segment name.
/// - `wal.meta.prepared.tmp`: the metadata the rollover installs, synced; renamed over
///   `wal.meta` once the segment's name is durable, as a freshly written one would be.
///
/// Both are temporary files, so a crash at any point leaves the log as the unprepared path
/// would, and recovery deletes them. Preparation is only a head start: if it fails or is not
/// ready, the writer creates the segment itself and reports any error from that.
///
/// The writer asks for the next segment once the active one is half full. With a thread
/// (`.backgroundThreads`) preparation runs beside the writer; without one
/// (`.callingThread`, deterministic simulation) the writer prepares when it takes, which runs
/// the same file operations, and so the same crash points, in a fixed order.
final class SegmentPreparer<FS: FileSystem>: Sendable {
    /// A segment file and metadata file ready to be installed. Sendable because a handle
    /// passes from the preparing thread to the writer under the lock, and only one of them
    /// uses it at a time.
    struct Prepared: @unchecked Sendable {
        let sequence: UInt64
        let segment: FS.FileHandle
        /// The zeroed length, which the segment's opening bytes must match to be written in place.
        let length: Int
        let metadataFile: FS.FileHandle
        let metadata: LogMetadata
    }

    /// What the writer will need next.
    struct Request: Equatable {
        var sequence: UInt64
        var length: Int
        var metadata: LogMetadata
    }

    private struct State {
        var wanted: Request?
        var prepared: Prepared?
        var preparing = false
        var stopping = false
        var stopped = true
    }

    let fileSystem: FS
    let directory: String
    private let lock = ConditionLock(State())

    init(fileSystem: FS, directory: String) {
        self.fileSystem = fileSystem
        self.directory = directory
    }

    /// Starts the preparing thread. Without one (it failed to start, or the log runs on the
    /// calling thread), `take` prepares inline.
    func start(_ starter: ThreadStarter) {
        lock.withLock { $0.stopped = false }
        let failed = starter.start { [self] in run() }
        if failed != nil { lock.withLock { $0.stopped = true } }
    }

    /// Asks for the segment with `request.sequence` to be prepared; returns at once.
    func request(_ request: Request) {
        lock.withLock { $0.wanted = request }
        lock.broadcast()
    }

    /// The prepared files for `request`, waiting for a preparation asked for or in progress;
    /// nil if there are none and they could not be made now. The caller owns both handles.
    func take(_ request: Request) -> Prepared? {
        let ready: Prepared?? = lock.withLock(whenever: { $0.stopped || (!$0.preparing && $0.wanted == nil) }) { state in
            guard !state.stopped else { return .none }
            defer { state.prepared = nil }
            return .some(state.prepared)
        }
        var prepared: Prepared?
        switch ready {
        case .none:
            // No thread: prepare now, through the same operations the thread would run.
            prepared = prepare(request)
        case .some(let found):
            prepared = found
        }
        guard let prepared else { return nil }
        guard prepared.sequence == request.sequence, prepared.length == request.length else {
            // The thread is idle (only the writer asks it for work), so nothing races this.
            discard(prepared)
            return nil
        }
        return prepared
    }

    /// Stops the thread and deletes whatever it prepared and nobody took.
    func stop() {
        lock.withLock { $0.stopping = true }
        lock.broadcast()
        let leftover = lock.withLock(whenever: { $0.stopped }) { state in
            defer { state.prepared = nil }
            return state.prepared
        }
        if let leftover { discard(leftover) }
    }

    private func run() {
        while true {
            let next: Request? = lock.withLock(whenever: { $0.stopping || $0.wanted != nil }) { state in
                guard !state.stopping, let wanted = state.wanted else { return nil }
                state.wanted = nil
                state.preparing = true
                return wanted
            }
            guard let next else { break }
            let stale = lock.withLock { state in
                defer { state.prepared = nil }
                return state.prepared
            }
            if let stale { discard(stale) }
            let prepared = prepare(next)
            lock.withLock { state in
                state.preparing = false
                state.prepared = prepared
            }
            lock.broadcast()
        }
        lock.withLock { $0.stopped = true }
        lock.broadcast()
    }

    private func path(_ name: String) -> String { directory + "/" + name }

    /// Creates and syncs both files, replacing any left from an earlier preparation.
    private func prepare(_ request: Request) -> Prepared? {
        let segmentPath = path(SegmentName.prepared(sequence: request.sequence))
        let metadataPath = path(LogMetadata.preparedName)
        do throws(FileSystemError) {
            for stale in [segmentPath, metadataPath] {
                do { try fileSystem.removeFile(stale) } catch where error.code == .notFound {}
            }
            let segment = try fileSystem.openFile(segmentPath, mode: .createNew)
            let metadataFile: FS.FileHandle
            do {
                try fileSystem.write([UInt8](repeating: 0, count: request.length), to: segment, at: 0)
                try fileSystem.synchronize(segment)
                metadataFile = try fileSystem.openFile(metadataPath, mode: .createNew)
            } catch {
                fileSystem.closeFile(segment)
                throw error
            }
            do {
                try fileSystem.write(request.metadata.encoded, to: metadataFile, at: 0)
                try fileSystem.synchronize(metadataFile)
            } catch {
                fileSystem.closeFile(segment)
                fileSystem.closeFile(metadataFile)
                throw error
            }
            return Prepared(
                sequence: request.sequence, segment: segment, length: request.length, metadataFile: metadataFile,
                metadata: request.metadata)
        } catch {
            for leftover in [segmentPath, metadataPath] { try? fileSystem.removeFile(leftover) }
            return nil
        }
    }

    /// Closes and deletes prepared files that will not be used.
    private func discard(_ prepared: Prepared) {
        fileSystem.closeFile(prepared.segment)
        fileSystem.closeFile(prepared.metadataFile)
        try? fileSystem.removeFile(path(SegmentName.prepared(sequence: prepared.sequence)))
        try? fileSystem.removeFile(path(LogMetadata.preparedName))
    }
}
