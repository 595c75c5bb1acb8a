/// Syncs a file being written on a dedicated thread, while the writer goes on, so that the
/// final `fdatasync` finds little left to flush and the disk works while the cores compress.
///
/// A failed sync is remembered and reported by `finish`; it is never retried (the kernel may
/// already have dropped the pages it failed to write), and the writer then abandons the file.
final class BackgroundSync<FS: FileSystem>: Sendable {
    private struct State {
        var requested = 0
        var completed = 0
        var failure: FileSystemError?
        var stopping = false
        var stopped = false
    }

    private let lock = ConditionLock(State())

    /// Starts the sync thread. If it cannot start, requests do nothing: these syncs only
    /// spread the work out, and the writer's final sync still makes the file durable.
    init(fileSystem: FS, file: FS.FileHandle, starter: ThreadStarter) {
        let failed = starter.start { [lock] in
            while true {
                let target = lock.withLock(whenever: { $0.stopping || $0.requested > $0.completed }) { state in
                    state.stopping ? nil : state.requested
                }
                guard let target else { break }
                var failure: FileSystemError?
                do throws(FileSystemError) { try fileSystem.synchronize(file) } catch { failure = error }
                lock.withLock { state in
                    state.completed = target
                    if state.failure == nil { state.failure = failure }
                }
                lock.broadcast()
            }
            lock.withLock { $0.stopped = true }
            lock.broadcast()
        }
        if failed != nil { lock.withLock { $0.stopped = true } }
    }

    /// Asks for a sync of everything written so far; returns at once.
    func request() {
        lock.withLock { state in state.requested += 1 }
        lock.broadcast()
    }

    /// Waits for the sync in progress, if any, and stops the thread. Returns the first sync
    /// failure, if there was one. After this, the file may be closed.
    func finish() -> FileSystemError? {
        lock.withLock { $0.stopping = true }
        lock.broadcast()
        return lock.withLock(whenever: { $0.stopped }) { $0.failure }
    }
}
