#if canImport(Glibc)
import Glibc
#endif

/// One child process, its standard output and error appended to a log file, stopped and
/// reaped by its pid.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`, because a child inherits
/// its spawning thread's signal mask, and Swift's concurrency threads block SIGTERM and
/// SIGINT: a server started from one would never see the signals that shut it down
/// gracefully. Here the child starts with no signal blocked and every signal at its default.
final class ChildProcess: Sendable {
    let pid: pid_t

    /// Starts `executable` with `arguments`, standard output and error appended to `logFile`
    /// and standard input from `/dev/null`.
    /// - Throws: ``SetupError`` naming the errno when the process cannot be spawned.
    init(executable: String, arguments: [String], logFile: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw SetupError("cannot start \(executable): \(String(cString: strerror(result))) (errno \(result))")
        }
        self.pid = pid
    }

    /// Whether the child still runs; reaps it if it has exited.
    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Sends `signal` unless the child has exited, and waits until it has.
    func stop(signal: Int32) {
        self.signal(signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    }
}
