import Foundation
import RaftSimulation
import Testing
import WAL

/// Issue 9, item 10: the next segment is prepared ahead, so a rollover fills in and renames
/// files that already exist and are synced instead of creating them while the pipeline waits.
@Suite(.timeLimit(.minutes(1))) struct PreparedSegmentTests {
    /// Names of the files the preparer leaves in a directory.
    static func preparedFiles(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".prepared.tmp") }.sorted()
    }

    @Test func everyRolloverOnDedicatedThreadsUsesTheFilesPreparedAhead() async throws {
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        let options = smallOptions(segmentSize: 4096)
        let log = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
        for index in 1...UInt64(120) { try await log.append([entry(index, size: 150)]) }
        let statistics = log.statistics
        #expect(statistics.segmentsCreated >= 3, "4 KiB segments roll over several times")
        #expect(statistics.preparedSegmentsUsed == statistics.segmentsCreated)
        await log.close()
        #expect(try Self.preparedFiles(in: temporary.path) == [], "closing deletes what was prepared and not used")

        let reopened = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
        #expect(try allEntries(reopened) == entries(1...120, size: 150))
        await reopened.close()
    }

    /// Copying a live log's directory is what a power cut leaves of it, plus data that was
    /// only in the page cache. The copy holds the prepared files for the next segment.
    @Test func aCrashWithPreparedFilesOnDiskLosesNothingAndRemovesThem() async throws {
        let temporary = TemporaryDirectory()
        defer { temporary.remove() }
        let copy = TemporaryDirectory()
        defer { copy.remove() }
        let options = smallOptions(segmentSize: 4096)
        let log = try WriteAheadLog(directory: temporary.path, fileSystem: PosixFileSystem(), options: options)
        // Past a rollover, then on until the next segment is prepared (half-way through).
        var last: UInt64 = 0
        var prepared: [String] = []
        for _ in 0..<400 where prepared.count < 2 || log.statistics.segmentsCreated == 0 {
            last += 1
            try await log.append([entry(last, size: 150)])
            try await Task.sleep(for: .milliseconds(2))
            prepared = try Self.preparedFiles(in: temporary.path)
        }
        #expect(log.statistics.segmentsCreated >= 1)
        #expect(prepared.count == 2, "a segment and its metadata are prepared: \(prepared)")
        for name in try FileManager.default.contentsOfDirectory(atPath: temporary.path) where name != "LOCK" {
            try FileManager.default.copyItem(atPath: temporary.path + "/" + name, toPath: copy.path + "/" + name)
        }
        await log.close()

        let recovered = try WriteAheadLog(directory: copy.path, fileSystem: PosixFileSystem(), options: options)
        #expect(try allEntries(recovered) == entries(1...last, size: 150))
        #expect(Set(recovered.recoveryReport.removedFiles) == Set(prepared))
        for index in (last + 1)...(last + 60) { try await recovered.append([entry(index, size: 150)]) }
        await recovered.close()
        #expect(try Self.preparedFiles(in: copy.path) == [])
        let again = try WriteAheadLog(directory: copy.path, fileSystem: PosixFileSystem(), options: options)
        #expect(try allEntries(again) == entries(1...(last + 60), size: 150))
        await again.close()
    }

    /// Preparation is only a head start: when it fails, the rollover creates the segment as
    /// before, and the failure costs nothing.
    @Test func aFailedPreparationFallsBackToCreatingTheSegment() async throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        var options = smallOptions(segmentSize: 4096)
        options.execution = .callingThread
        try fileSystem.createDirectory("/log")
        let log = try WriteAheadLog(directory: "/log", fileSystem: fileSystem, options: options)
        try await log.append([entry(1, size: 150)])
        let batchSize = Int(log.statistics.bytesWritten)
        let segment = try #require(try fileSystem.contentsOfDirectory("/log").first { $0.hasSuffix(".wal") })
        var index: UInt64 = 1
        while log.statistics.segmentsCreated == 0 {
            index += 1
            let end = try #require(fileSystem.contents(of: "/log/" + segment)).count
            if end + batchSize > options.segmentSize {
                // This append rolls over; the preparation's first write fails.
                fileSystem.failNextWrite(with: .noSpace)
            }
            try await log.append([entry(index, size: 150)])
        }
        #expect(log.statistics.segmentsCreated == 1)
        #expect(log.statistics.preparedSegmentsUsed == 0, "the failed preparation was not used")
        for next in (index + 1)...(index + 40) { try await log.append([entry(next, size: 150)]) }
        #expect(log.statistics.preparedSegmentsUsed >= 1, "later rollovers prepare again")
        await log.close()
        fileSystem.crash()
        let reopened = try WriteAheadLog(directory: "/log", fileSystem: fileSystem, options: options)
        #expect(try allEntries(reopened) == entries(1...(index + 40), size: 150))
        await reopened.close()
    }
}
