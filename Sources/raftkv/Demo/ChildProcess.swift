import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One child process, its output appended to a log file, stopped by its pid.
///
/// Foundation's `Process` reaps the child itself, so waiting goes through it and never
/// through `waitpid` here.
final class ChildProcess: @unchecked Sendable {
    private let process: Process
    let pid: pid_t

    /// Starts `executable` with `arguments`, standard output and error appended to `logFile`
    /// and standard input empty.
    /// - Throws: What `Process.run` throws (no such executable, no resources).
    init(executable: String, arguments: [String], logFile: String) throws {
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        pid = process.processIdentifier
    }

    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Sends `signal` unless the child has exited, and waits until it has.
    func stop(signal: Int32) {
        self.signal(signal)
        process.waitUntilExit()
    }
}
