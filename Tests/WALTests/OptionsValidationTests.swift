import RaftSimulation
import Testing
import WAL

/// Options no log can work with are refused when the log is opened, verified or listed, with
/// a typed error and before anything is written (issue 10, findings 2 and 7).
@Suite struct OptionsValidationTests {
    let directory = "/wal"

    static let impossible: [(String, @Sendable (inout WALOptions) -> Void)] = [
        ("maxPayloadSize above the frame's 32-bit length", { $0.maxPayloadSize = WALOptions.largestPayloadSize + 1 }),
        ("maxPayloadSize of 4 GiB + 8", { $0.maxPayloadSize = (1 << 32) + 8 }),
        ("negative maxPayloadSize", { $0.maxPayloadSize = -1 }),
        ("indexInterval 0", { $0.indexInterval = 0 }),
        ("negative indexInterval", { $0.indexInterval = -4 }),
        ("segmentSize 0", { $0.segmentSize = 0 }),
        ("negative segmentSize", { $0.segmentSize = -(64 << 20) }),
        ("maxBatchBytes 0", { $0.maxBatchBytes = 0 }),
        ("maxBytesInFlight 0", { $0.maxBytesInFlight = 0 }),
        ("readBufferSize 0", { $0.readBufferSize = 0 }),
    ]

    @Test(arguments: 0..<impossible.count)
    func impossibleOptionsAreRefusedBeforeAnythingIsWritten(_ number: Int) async throws {
        let (name, change) = Self.impossible[number]
        var options = smallOptions()
        change(&options)
        let fileSystem = SimulatedFileSystem(seed: 7)
        expectInvalidOptions(name) { () throws(WALError) in
            _ = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        }
        #expect((try? fileSystem.contentsOfDirectory(directory)) == nil, "\(name): the log directory was created")
        expectInvalidOptions(name) { () throws(WALError) in
            _ = try WriteAheadLog.verify(directory: directory, fileSystem: fileSystem, options: options)
        }
        expectInvalidOptions(name) { () throws(WALError) in
            try WriteAheadLog.forEachRecord(directory: directory, fileSystem: fileSystem, options: options) { _ in }
        }
    }

    private func expectInvalidOptions(_ name: String, _ body: () throws(WALError) -> Void) {
        do {
            try body()
            Issue.record("\(name) was accepted")
        } catch {
            guard case .invalidOptions = error else {
                Issue.record("\(name) gave \(error), not invalidOptions")
                return
            }
        }
    }

    @Test func theLargestPayloadTheFormatHoldsIsAccepted() async throws {
        var options = smallOptions()
        options.maxPayloadSize = WALOptions.largestPayloadSize
        #expect(WALOptions.largestPayloadSize == Int(UInt32.max))
        let log = try WriteAheadLog(directory: directory, fileSystem: SimulatedFileSystem(seed: 8), options: options)
        try await log.append(entries(1...3, size: 100))
        #expect(log.lastIndex == 3)
        await log.close()
    }
}

/// A reader accepts every record the writer accepted, whatever `maxPayloadSize` the reader
/// was given (issue 10, finding 4).
@Suite struct LargeRecordTests {
    @Test func recordsAboveTheDefaultLimitReadBackEverywhere() async throws {
        let fileSystem = SimulatedFileSystem(seed: 12)
        var writing = smallOptions(segmentSize: 1 << 20)
        writing.maxPayloadSize = 17_000_000
        let large = LogEntry(index: 1, term: 1, payload: [UInt8](repeating: 0xA7, count: 17_000_000))
        let log = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: writing)
        try await log.append([large, entry(2, size: 10)])
        await log.close()

        // Default options (a 16 MiB write limit), as `raftkv wal verify` and `dump` use them.
        let reading = WALOptions()
        let report = try WriteAheadLog.verify(directory: "/wal", fileSystem: fileSystem, options: reading)
        #expect(report.lastIndex == 2)
        var sizes: [Int] = []
        try WriteAheadLog.forEachRecord(directory: "/wal", fileSystem: fileSystem, options: reading) { record in
            if record.kind == .entry { sizes.append(record.size) }
        }
        #expect(sizes == [17_000_000, 10])
        let reopened = try WriteAheadLog(directory: "/wal", fileSystem: fileSystem, options: reading)
        #expect(try reopened.entry(at: 1) == large)
        await reopened.close()
    }
}
