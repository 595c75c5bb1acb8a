import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its standard output and error read by a plain
/// thread. Foundation's `Process` is avoided on purpose: its run-loop thread can keep a test
/// binary from exiting.
final class ChildProcess: Sendable {
    private struct State {
        var output = ""
        var exitStatus: Int32?
    }

    let pid: pid_t
    private let state = Mutex(State())
    private let readerDone = Mutex(false)

    init(executable: String, arguments: [String]) throws {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw POSIXError(.EMFILE) }
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, writeEnd)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in environment { free(pointer) }
        }
        var child = pid_t()
        let result = posix_spawn(&child, executable, &actions, nil, argv, environment)
        close(writeEnd)
        guard result == 0 else {
            close(readEnd)
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO)
        }
        pid = child
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                let text = String(decoding: buffer[0..<count], as: UTF8.self)
                state.withLock { $0.output += text }
            }
            close(readEnd)
            readerDone.withLock { $0 = true }
        }
    }

    /// Everything the child has printed so far.
    var output: String { state.withLock { $0.output } }

    var isRunning: Bool {
        state.withLock { state in
            guard state.exitStatus == nil else { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                state.exitStatus = status
                return false
            }
            return true
        }
    }

    /// Sends SIGKILL and waits for the exit and for the last of the output.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
        _ = waitForExit()
    }

    /// Waits for the child to exit and its output to end. Returns its exit code (0 for a
    /// child a signal ended: see `waitForTermination()`).
    @discardableResult
    func waitForExit() -> Int32 {
        waitForTermination().exitCode
    }

    /// Waits for the child to end and its output to end. Returns its exit code, or the
    /// signal that ended it (a trap is SIGILL or SIGTRAP).
    func waitForTermination() -> (exitCode: Int32, signal: Int32?) {
        let status: Int32 = state.withLock { state in
            if let status = state.exitStatus { return status }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            state.exitStatus = status
            return status
        }
        while !readerDone.withLock({ $0 }) { usleep(1000) }
        // WTERMSIG and WEXITSTATUS, spelled out: Glibc's macros are not imported.
        let signal = status & 0x7F
        return ((status >> 8) & 0xFF, signal == 0 ? nil : signal)
    }
}
