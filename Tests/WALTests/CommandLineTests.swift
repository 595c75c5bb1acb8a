import Foundation
import Testing
import WAL

/// Runs `raftkv` with `arguments` and returns its exit code and everything it printed.
func runRaftKV(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try #require(FileManager.default.isExecutableFile(atPath: CrashTortureTests.raftkv.path), "build raftkv first")
    let child = try ChildProcess(executable: CrashTortureTests.raftkv.path, arguments: arguments)
    let status = child.waitForExit()
    return (status, child.output)
}

/// `raftkv wal` refuses what the log cannot hold or do as a usage error, before it writes
/// anything (issue 10).
@Suite struct CommandLineTests {
    @Test func aRecordTheFormatCannotHoldIsRefusedBeforeAnythingIsWritten() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.path + "/log"
        let (status, output) = try runRaftKV(["wal", "stress", log, "--record-size", "4294967304", "--records", "1", "--ack-stream"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("--record-size must be at most 4294967295"), "\(output)")
        #expect(!output.contains("ack 1"))
        #expect(!FileManager.default.fileExists(atPath: log))
    }
}
