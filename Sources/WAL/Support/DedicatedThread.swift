#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts an OS thread for work that blocks in system calls (fdatasync), so that it never
/// occupies a thread of Swift's cooperative pool.
enum DedicatedThread {
    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts a detached thread running `body`; returns the `pthread_create` error (such as
    /// EAGAIN under a process limit), or nil once the thread runs.
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
        let box = Unmanaged.passRetained(Box(body))
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let result = pthread_create(&thread, nil, { context in
            let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
            box.body()
            return nil
        }, box.toOpaque())
        guard result == 0 else {
            box.release()
            return result
        }
        pthread_detach(thread)
        return nil
    }
}

/// How the log and the snapshot code start their threads: the system's `pthread_create`, or,
/// in tests, a starter that fails as a process at its thread limit would.
package struct ThreadStarter: Sendable {
    /// Starts a thread running its argument; returns an errno on failure, nil on success.
    package let start: @Sendable (@escaping @Sendable () -> Void) -> Int32?

    package init(start: @escaping @Sendable (@escaping @Sendable () -> Void) -> Int32?) {
        self.start = start
    }

    /// `pthread_create`.
    package static let system = ThreadStarter(start: DedicatedThread.start)
}
