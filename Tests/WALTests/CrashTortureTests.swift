import Foundation
import Synchronization
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
        let check = Process()
        check.executableURL = Self.raftkv
        check.arguments = ["wal", "stress", directory.path, "--records", "0", "--json"]
        let output = Pipe()
        check.standardOutput = output
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
        let report = try JSONSerialization.jsonObject(with: output.fileHandleForReading.readDataToEndOfFile()) as? [String: Any]
        let verified = try #require(report?["verified_records"] as? Int)
        #expect(UInt64(verified) >= highestAcknowledged)
        #expect(report?["records"] as? Int == 0)
    }
}

/// A `raftkv wal stress --ack-stream` child process and the acknowledgements it printed.
final class StressChild: Sendable {
    private let process: Process
    private let acknowledged = Mutex<(highest: UInt64, partial: String, errors: String)>((0, "", ""))

    init(directory: String) throws {
        process = Process()
        process.executableURL = CrashTortureTests.raftkv
        process.arguments = [
            "wal", "stress", directory, "--ack-stream", "--concurrency", "8", "--batch", "4",
            "--record-size", "200", "--segment-size", "1", "--duration", "120s",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        output.fileHandleForReading.readabilityHandler = { [self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            acknowledged.withLock { state in
                let lines = (state.partial + text).split(separator: "\n", omittingEmptySubsequences: false)
                state.partial = String(lines.last ?? "")
                for line in lines.dropLast() where line.hasPrefix("ack ") {
                    state.highest = max(state.highest, UInt64(line.dropFirst(4)) ?? 0)
                }
            }
        }
        errors.fileHandleForReading.readabilityHandler = { [self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            acknowledged.withLock { $0.errors += text }
        }
        try process.run()
    }

    var highestAcknowledged: UInt64 { acknowledged.withLock { $0.highest } }
    var errorOutput: String { acknowledged.withLock { $0.errors } }
    var isRunning: Bool { process.isRunning }

    /// SIGKILL, then wait for the exit and for the last printed acknowledgements.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        usleep(20_000)
        (process.standardOutput as? Pipe)?.fileHandleForReading.readabilityHandler = nil
        (process.standardError as? Pipe)?.fileHandleForReading.readabilityHandler = nil
    }
}
