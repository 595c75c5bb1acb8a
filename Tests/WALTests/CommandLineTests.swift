import Foundation
import Testing
import WAL

/// The `raft-sim` executable built beside the test bundle.
var raftSimExecutable: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("raft-sim").path
}

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

    /// Arguments that used to trap (or run forever, or allocate without bound), each a usage
    /// error now: exit 64 and a message naming the option.
    static let refused: [(arguments: [String], message: String)] = [
        (["wal", "dump", "DIR", "--from", "10", "--to", "5"], "--from 10 is after --to 5"),
        (["wal", "stress", "DIR", "--duration", "1e300s"], "--duration takes a positive number"),
        (["wal", "stress", "DIR", "--duration", "infs"], "--duration takes a positive number"),
        (["wal", "stress", "DIR", "--record-size", "99999999999999"], "--record-size must be at most"),
        (["wal", "stress", "DIR", "--record-size", "-1"], "--record-size must be at least 8"),
        (["wal", "stress", "DIR", "--segment-size", "0"], "--segment-size must be positive"),
        (["wal", "stress", "DIR", "--segment-size", "-1"], "--segment-size must be positive"),
        (["wal", "stress", "DIR", "--segment-size", "99999999999999"], "--segment-size must be at most"),
        (["wal", "stress", "DIR", "--concurrency", "-3"], "must be positive"),
    ]

    @Test(arguments: 0..<refused.count)
    func aBadArgumentIsAUsageError(_ number: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.path + "/log"
        let (arguments, message) = Self.refused[number]
        let (status, output) = try runRaftKV(arguments.map { $0 == "DIR" ? log : $0 })
        #expect(status == 64, "\(arguments): \(output)")
        #expect(output.contains(message), "\(arguments): \(output)")
        #expect(!FileManager.default.fileExists(atPath: log), "\(arguments) wrote to the log")
    }

    static let refusedBySimulator: [(arguments: [String], message: String)] = [
        (["--start", "18446744073709551615", "--seeds", "2"], "runs past the largest seed"),
        (["--ticks", "18446744073709551615", "--seeds", "1"], "--ticks must be between 1 and"),
        (["--seeds", "9223372036854775807"], "--seeds must be at most"),
        (["--seeds", "-1"], "--seeds must be positive"),
        (["--seeds", "2", "--verbose"], "--verbose prints one seed's trace"),
    ]

    @Test(arguments: 0..<refusedBySimulator.count)
    func aBadSimulatorArgumentIsAUsageError(_ number: Int) throws {
        try #require(FileManager.default.isExecutableFile(atPath: raftSimExecutable), "build raft-sim first")
        let (arguments, message) = Self.refusedBySimulator[number]
        let child = try ChildProcess(executable: raftSimExecutable, arguments: arguments)
        let status = child.waitForExit()
        #expect(status == 64, "\(arguments): \(child.output)")
        #expect(child.output.contains(message), "\(arguments): \(child.output)")
    }

    /// A full disk under `--compare-raw`: the baseline's failure is named, the log's report is
    /// still printed, and the exit status says I/O error. Needs a small tmpfs (root).
    @Test(.enabled(if: SmallFileSystem.canMount, "mounting a tmpfs needs root"))
    func aFullDiskUnderTheRawBaselineKeepsTheReportAndNamesTheError() throws {
        let disk = try SmallFileSystem(megabytes: 8)
        defer { disk.remove() }
        let (status, output) = try runRaftKV([
            "wal", "stress", disk.path + "/log", "--records", "200", "--record-size", "256", "--segment-size", "1", "--compare-raw",
        ])
        #expect(status == 2, "\(output)")
        #expect(output.contains("the raw-disk baseline failed: pwrite: No space left on device"), "\(output)")
        #expect(output.contains("verified_records"), "the log's report is printed: \(output)")
        #expect(!output.contains("NSPOSIXErrorDomain"), "\(output)")
    }

    @Test func verifyOfAPathThatIsNotADirectoryIsAnIOErrorPrintedOnce() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.path + "/plain-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        let (status, output) = try runRaftKV(["wal", "verify", file])
        #expect(status == 2, "\(output)")
        #expect(output.contains("ENOTDIR"), "\(output)")
        #expect(output.components(separatedBy: "wal verify:").count == 2, "\(output)")
        #expect(!output.contains("ok"))
    }

    @Test func aMissingLogIsAnIOErrorNotCorruption() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        for command in ["verify", "dump"] {
            let (status, output) = try runRaftKV(["wal", command, directory.path + "/missing"])
            #expect(status == 2, "\(command): \(output)")
        }
    }
}
