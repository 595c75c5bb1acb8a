import Foundation
import Testing
import WAL

/// Runs `raftkv wal stress --ack-stream` as a child process, kills it with SIGKILL at random
/// moments, and checks after every kill that each acknowledged index is present and intact.
/// `WAL_TORTURE_CYCLES` raises the number of cycles (default 30).
@Suite struct CrashTortureTests {
    static let cycles = ProcessInfo.processInfo.environment["WAL_TORTURE_CYCLES"].flatMap(Int.init) ?? 30

    /// The `raftkv` executable built beside the test bundle.
    static var raftkv: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("raftkv")
    }

    @Test func everyAcknowledgedIndexSurvivesSIGKILL() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.raftkv.path), "build raftkv first")
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SystemRandomNumberGenerator()
        var highestAcknowledged: UInt64 = 0
        for cycle in 0..<Self.cycles {
            let child = try StressChild(directory: directory.path)
            // Let it recover, verify what is there, and acknowledge something new.
            let started = Date()
            while child.highestAcknowledged <= highestAcknowledged && child.isRunning && Date().timeIntervalSince(started) < 60 {
                usleep(2000)
            }
            #expect(child.isRunning, "cycle \(cycle): stress exited on its own: \(child.errorOutput)")
            usleep(UInt32.random(in: 0...150_000, using: &random))
            child.kill()
            let acknowledged = child.highestAcknowledged
            #expect(acknowledged > highestAcknowledged, "cycle \(cycle) acknowledged nothing new")
            highestAcknowledged = max(highestAcknowledged, acknowledged)

            // Reopening recovers; every acknowledged index is there and passes its CRC.
            let log = try WriteAheadLog(directory: directory.path, fileSystem: PosixFileSystem())
            #expect(log.lastIndex >= highestAcknowledged, "cycle \(cycle): acknowledged \(highestAcknowledged), recovered \(log.lastIndex)")
            let reader = try log.makeReader(from: log.firstIndex, through: log.lastIndex)
            var count: UInt64 = 0
            while try reader.next() != nil { count += 1 }
            #expect(count == log.lastIndex)
            await log.close()
        }
        // A last run checks every payload against its index and appends nothing.
        let check = try ChildProcess(
            executable: Self.raftkv.path, arguments: ["wal", "stress", directory.path, "--records", "0", "--json"])
        #expect(check.waitForExit() == 0)
        // Standard error (a torn-tail warning, say) shares the stream; the report is one line.
        let line = try #require(check.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let report = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        let verified = try #require(report?["verified_records"] as? Int)
        #expect(UInt64(verified) >= highestAcknowledged)
        #expect(report?["records"] as? Int == 0)
    }
}

/// A `raftkv wal stress --ack-stream` child process and the acknowledgements it printed.
struct StressChild {
    let process: ChildProcess

    init(directory: String) throws {
        process = try ChildProcess(
            executable: CrashTortureTests.raftkv.path,
            arguments: [
                "wal", "stress", directory, "--ack-stream", "--concurrency", "8", "--batch", "4",
                "--record-size", "200", "--segment-size", "1", "--duration", "120s",
            ])
    }

    /// The highest index the child said is durable.
    var highestAcknowledged: UInt64 {
        process.output.split(separator: "\n").reduce(0) { highest, line in
            line.hasPrefix("ack ") ? max(highest, UInt64(line.dropFirst(4)) ?? 0) : highest
        }
    }

    var errorOutput: String { process.output.split(separator: "\n").filter { !$0.hasPrefix("ack ") }.joined(separator: "\n") }
    var isRunning: Bool { process.isRunning }

    func kill() { process.kill() }
}
