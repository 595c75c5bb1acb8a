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
