import DequeModule

/// Runs pure CPU jobs (compressing, decompressing and checking snapshot blocks) on dedicated
/// threads, and hands their results back in the order the jobs were submitted.
///
/// Why not tasks: Swift's cooperative pool has one thread per core, and anything that blocks
/// one of them (a caller waiting on a semaphore, a blocking system call) takes a core away
/// from every task. On two cores that serialized all block compression. Dedicated threads
/// keep the cores busy whatever the pool is doing, while the owner waits for results by
/// suspending, never by blocking a pool thread.
///
/// Jobs never touch files: the owner issues every file operation itself, in order, so the
/// sequence of file system calls stays deterministic. With no threads the jobs run inline
/// in `submit`, so that a deterministic simulation sees no threads at all.
///
/// One owner (a writer or a reader) submits and collects; it must not call `next` from two
/// tasks at once. Threads start with the first job and stop when the owner is released or
/// calls `stop`; jobs still queued then are dropped.
final class BlockWorkers<Output: Sendable>: Sendable {
    typealias Job = @Sendable () -> Output

    private struct State {
        var queue = Deque<(sequence: UInt64, job: Job)>()
        var finished: [UInt64: Output] = [:]
        /// The owner, suspended until the job with this sequence number finishes.
        var waiter: (sequence: UInt64, continuation: UnsafeContinuation<Output, Never>)?
        var submitted: UInt64 = 0
        var delivered: UInt64 = 0
        var started = false
        var stopping = false
        /// No thread could be started: jobs run in `submit`, as with no threads at all.
        var inline = false
    }

    private let lock = ConditionLock(State())
    private let threadCount: Int
    private let starter: ThreadStarter

    /// Workers on `threadCount` dedicated threads; 0 runs every job inline in `submit`, and
    /// so does a pool none of whose threads could be started (a process at its thread limit).
    init(threadCount: Int, starter: ThreadStarter) {
        self.threadCount = max(0, threadCount)
        self.starter = starter
    }

    deinit {
        stop()
    }

    /// The number of jobs submitted whose results have not been taken yet.
    var pendingCount: Int {
        lock.withLock { Int($0.submitted - $0.delivered) }
    }

    /// Queues `job`; its result comes out of `next` after those of all earlier jobs.
    func submit(_ job: @escaping Job) {
        guard threadCount > 0, !lock.withLock({ $0.inline }) else {
            finishInline(job())
            return
        }
        let mustStart = lock.withLock { state in
            state.queue.append((state.submitted, job))
            state.submitted += 1
            defer { state.started = true }
            return !state.started
        }
        if mustStart {
            let running = (0..<threadCount).filter { _ in starter.start({ [lock] in Self.work(lock) }) == nil }.count
            if running == 0 {
                // The owner never waits in `next` while it submits, so no waiter needs waking.
                let queued = lock.withLock { state in
                    defer {
                        state.queue.removeAll()
                        state.inline = true
                    }
                    return Array(state.queue)
                }
                for (sequence, job) in queued {
                    let output = job()
                    lock.withLock { $0.finished[sequence] = output }
                }
            }
        }
        lock.broadcast()
    }

    /// Queues a result that needs no work, in order with the jobs.
    func submit(finished output: Output) {
        finishInline(output)
    }

    private func finishInline(_ output: Output) {
        lock.withLock { state in
            state.finished[state.submitted] = output
            state.submitted += 1
        }
    }

    /// The result of the oldest job not yet taken, if it has finished.
    func nextIfFinished() -> Output? {
        lock.withLock { state in
            guard state.delivered < state.submitted, let output = state.finished.removeValue(forKey: state.delivered)
            else { return nil }
            state.delivered += 1
            return output
        }
    }

    /// The result of the oldest job not yet taken, waiting for it without blocking a thread.
    nonisolated(nonsending) func next() async -> Output {
        if let output = nextIfFinished() { return output }
        return await withUnsafeContinuation { continuation in
            let output = lock.withLock { state -> Output? in
                precondition(state.delivered < state.submitted, "next() without a pending job")
                let sequence = state.delivered
                state.delivered += 1
                if let output = state.finished.removeValue(forKey: sequence) { return output }
                state.waiter = (sequence, continuation)
                return nil
            }
            if let output { continuation.resume(returning: output) }
        }
    }

    /// Stops the threads after the jobs they are running; queued jobs are dropped. The
    /// owner must not be waiting in `next`.
    func stop() {
        lock.withLock { state in
            state.stopping = true
            state.queue.removeAll()
        }
        lock.broadcast()
    }

    /// A worker thread's loop: takes jobs in order until stopped.
    private static func work(_ lock: ConditionLock<State>) {
        while true {
            let next = lock.withLock(whenever: { $0.stopping || !$0.queue.isEmpty }) { state in
                state.stopping ? nil : state.queue.popFirst()
            }
            guard let (sequence, job) = next else { return }
            let output = job()
            let waiter = lock.withLock { state -> UnsafeContinuation<Output, Never>? in
                if let waiter = state.waiter, waiter.sequence == sequence {
                    state.waiter = nil
                    return waiter.continuation
                }
                state.finished[sequence] = output
                return nil
            }
            waiter?.resume(returning: output)
        }
    }
}
