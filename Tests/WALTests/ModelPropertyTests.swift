import PropertyBased
import RaftSimulation
import Testing
import WAL

/// Random sequences of append, hard-state save, both truncations and reopen, compared after
/// every step against `LogModel`.
@Suite struct ModelPropertyTests {
    static let operations = Gen.int(in: 0...Int(UInt32.max)).array(of: 1...60)

    @Test func simulatedFileSystemMatchesTheModel() async {
        await propertyCheck(count: 150, input: Self.operations) { codes in
            await check(codes, fileSystem: SimulatedFileSystem(seed: UInt64(codes.count)), directory: "/wal")
        }
    }

    @Test func posixFileSystemMatchesTheModel() async {
        await propertyCheck(count: 25, input: Self.operations) { codes in
            let temporary = TemporaryDirectory()
            defer { temporary.remove() }
            await check(codes, fileSystem: PosixFileSystem(), directory: temporary.path)
        }
    }

    @Test func callingThreadExecutionMatchesTheModel() async {
        await propertyCheck(count: 100, input: Self.operations) { codes in
            await check(
                codes, fileSystem: SimulatedFileSystem(seed: UInt64(codes.count)), directory: "/wal",
                execution: .callingThread)
        }
    }

    private func check<FS: FileSystem>(
        _ codes: [Int], fileSystem: FS, directory: String, execution: WALExecution = .backgroundThreads
    ) async {
        var options = smallOptions(segmentSize: 1500)
        options.execution = execution
        do {
            var log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
            var model = LogModel()
            var term: UInt64 = 1
            for (step, code) in codes.enumerated() {
                let argument = UInt64(code / 6)
                switch code % 6 {
                case 0, 1:
                    let count = argument % 8
                    // Now and then a payload large enough to be written in place.
                    let size = argument % 16 == 1 ? 8192 + Int(argument % 5000) : Int(argument / 8 % 300)
                    let batch = count == 0 ? [] : entries((model.lastIndex + 1)...(model.lastIndex + count), term: term, size: size)
                    try await log.append(batch)
                    model.append(batch, hardState: nil)
                case 2:
                    term += 1
                    let state = HardState(term: term, vote: argument % 3, commit: model.lastIndex)
                    try await log.save(state)
                    model.append([], hardState: state)
                case 3:
                    let index = model.firstIndex - 1 + argument % (UInt64(model.entries.count) + 2)
                    try await log.truncateSuffix(after: index)
                    model.truncateSuffix(after: index)
                case 4:
                    let index = model.firstIndex + argument % (UInt64(model.entries.count) + 3)
                    try await log.truncatePrefix(through: index)
                    model.truncatePrefix(through: index)
                default:
                    await log.close()
                    log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
                    #expect(log.recoveryReport.tornTail == nil, "a clean close leaves no torn tail")
                }
                let state = try LogModel(of: log)
                #expect(state == model, "after step \(step) (code \(code)): log \(state), model \(model)")
                if state != model { break }
            }
            await log.close()
        } catch {
            Issue.record("unexpected error: \(error)")
        }
    }
}
