import RaftSimulation
import Testing
import WAL

/// The log knows its own extent: a missing first or last segment is corruption naming what
/// is missing, never a silently shorter log (issue 10, finding 3).
@Suite struct LogExtentTests {
    let directory = "/wal"

    /// A log of several segments, optionally prefix-truncated.
    func buildLog(truncatingThrough floor: UInt64? = nil) async throws -> (SimulatedFileSystem, WALOptions, [String]) {
        let fileSystem = SimulatedFileSystem(seed: 41)
        let options = smallOptions(segmentSize: 700)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        for chunk in stride(from: 1, to: 60, by: 3) {
            try await log.append(entries(UInt64(chunk)...UInt64(chunk + 2), size: 40))
        }
        if let floor { try await log.truncatePrefix(through: floor) }
        await log.close()
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.sorted()
        #expect(segments.count >= 5)
        return (fileSystem, options, segments)
    }

    func expectCorruption(
        _ fileSystem: SimulatedFileSystem, _ options: WALOptions, mentioning words: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for opening in [true, false] {
            do {
                if opening {
                    _ = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
                } else {
                    _ = try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
                }
                Issue.record("a missing segment went unnoticed (\(opening ? "open" : "verify"))", sourceLocation: sourceLocation)
            } catch {
                guard case .corruption(_, _, let reason) = error else {
                    Issue.record("\(error), not corruption", sourceLocation: sourceLocation)
                    continue
                }
                for word in words {
                    #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func aMissingFirstSegmentIsCorruption() async throws {
        let (fileSystem, options, segments) = try await buildLog()
        try fileSystem.removeFile(directory + "/" + segments[0])
        expectCorruption(fileSystem, options, mentioning: ["first segment", "is missing", "starts at index 1"])
    }

    @Test func aMissingFirstSegmentAfterAPrefixTruncationIsCorruption() async throws {
        let (fileSystem, options, _) = try await buildLog(truncatingThrough: 20)
        let segments = try fileSystem.contentsOfDirectory(directory).filter { $0.hasSuffix(".wal") }.sorted()
        // The log still opens as it is, starting at 21.
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(log.firstIndex == 21)
        await log.close()
        try fileSystem.removeFile(directory + "/" + segments[0])
        expectCorruption(fileSystem, options, mentioning: ["starts at index 21", "is missing"])
    }

    @Test func aMissingLastSegmentIsCorruption() async throws {
        let (fileSystem, options, segments) = try await buildLog()
        try fileSystem.removeFile(directory + "/" + segments[segments.count - 1])
        expectCorruption(
            fileSystem, options, mentioning: ["last segment", "sequence \(segments.count)", "is missing", segments[segments.count - 2]])
    }

    @Test func everySegmentMissingIsCorruption() async throws {
        let (fileSystem, options, segments) = try await buildLog()
        for name in segments { try fileSystem.removeFile(directory + "/" + name) }
        expectCorruption(fileSystem, options, mentioning: ["last segment", "no segment was found"])
    }

    @Test func anIntactLogReopensAfterRolloversAndTruncations() async throws {
        let (fileSystem, options, _) = try await buildLog(truncatingThrough: 20)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        try await log.truncateSuffix(after: 40)
        try await log.append(entries(41...70, size: 40))
        try await log.truncatePrefix(through: 100)
        try await log.append(entries(101...130, size: 40))
        await log.close()
        let reopened = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(reopened.firstIndex == 101 && reopened.lastIndex == 130)
        await reopened.close()
    }
}
