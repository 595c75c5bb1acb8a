import Synchronization
import RaftSimulation
import Testing
import WAL

/// The WAL fails closed: after a write or sync error, every pending and later call fails, a
/// failed fsync is never retried, and reopening recovers everything that was acknowledged.
@Suite struct FaultTests {
    let directory = "/wal"

    @Test func ioErrorOnSyncFailsTheBatchThePendingAppendsAndEveryLaterCall() async throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let options = smallOptions(segmentSize: 1 << 20)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        try await log.append(entries(1...5))

        // Hold the failing sync until more appends are queued behind it.
        fileSystem.holdSyncs()
        fileSystem.failNextSync()
        let results = OutcomeRecorder()
        log.append(entries(6...6)) { results.record(6, $0) }
        while fileSystem.heldSyncCount == 0 { await Task.yield() }
        log.append(entries(7...7)) { results.record(7, $0) }
        log.append(entries(8...8)) { results.record(8, $0) }
        let syncsBefore = fileSystem.syncCount
        fileSystem.releaseSyncs()
        while results.count < 3 { await Task.yield() }

        #expect(results.error(for: 6).map { if case .ioFailure = $0 { true } else { false } } == true)
        #expect(results.error(for: 7).map { if case .failed(cause: .ioFailure) = $0 { true } else { false } } == true)
        #expect(results.error(for: 8).map { if case .failed(cause: .ioFailure) = $0 { true } else { false } } == true)
        await #expect(throws: WALError.self) { try await log.append(entries(6...6)) }
        await #expect(throws: WALError.self) { try await log.truncateSuffix(after: 2) }
        // The failed sync was not retried: exactly one sync ran after the release.
        #expect(fileSystem.syncCount - syncsBefore == 1)
        #expect(log.lastIndex == 5)
        await log.close()

        fileSystem.crash()
        let reopened = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(try allEntries(reopened) == entries(1...5))
        try await reopened.append(entries(6...7))
        await reopened.close()
    }

    @Test func ioErrorOnWriteFailsClosed() async throws {
        let fileSystem = SimulatedFileSystem(seed: 2)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: smallOptions())
        try await log.append(entries(1...3))
        fileSystem.failNextWrite()
        await #expect(throws: WALError.self) { try await log.append(entries(4...4)) }
        await #expect(throws: WALError.self) { try await log.save(HardState(term: 1, vote: 0, commit: 0)) }
        await log.close()
        let reopened = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: smallOptions())
        #expect(try allEntries(reopened) == entries(1...3))
        await reopened.close()
    }

    @Test func fullDiskGivesATypedErrorAndACleanReopenOnceSpaceIsFree() async throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let options = smallOptions(segmentSize: 4096)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        fileSystem.limitSpace(to: 10_000)
        var acknowledged: UInt64 = 0
        var failure: WALError?
        for index in 1...1000 as ClosedRange<UInt64> {
            do {
                try await log.append([entry(index, size: 100)])
                acknowledged = index
            } catch {
                failure = error
                break
            }
        }
        guard case .diskFull = failure else {
            Issue.record("expected diskFull, got \(String(describing: failure))")
            return
        }
        #expect(acknowledged > 10)
        await #expect(throws: WALError.self) { try await log.append([entry(acknowledged + 1)]) }
        await log.close()

        // Space is freed (the process restarts; the unsynced partial write may or may not remain).
        fileSystem.crash()
        let reopened = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        let recovered = try allEntries(reopened)
        #expect(recovered.count >= Int(acknowledged))
        #expect(Array(recovered.prefix(Int(acknowledged))) == entries(1...acknowledged, size: 100))
        try await reopened.append([entry(UInt64(recovered.count) + 1, size: 100)])
        await reopened.close()
    }

    @Test func fullDiskWithoutACrashAlsoReopensCleanly() async throws {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let options = smallOptions(segmentSize: 1 << 20)
        let log = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        try await log.append(entries(1...5, size: 100))
        fileSystem.limitSpace(to: 150)
        await #expect(throws: WALError.self) { try await log.append(entries(6...8, size: 100)) }
        await log.close()
        fileSystem.limitSpace(to: nil)
        // The half-written batch is still in the file: recovery must cut it as a torn tail.
        let reopened = try WriteAheadLog(directory: directory, fileSystem: fileSystem, options: options)
        #expect(reopened.recoveryReport.tornTail != nil)
        #expect(try allEntries(reopened) == entries(1...5, size: 100))
        try await reopened.append(entries(6...8, size: 100))
        await reopened.close()
    }
}

/// Collects completion results from the writer thread.
final class OutcomeRecorder: Sendable {
    private let storage = Mutex<[UInt64: WALError?]>([:])
    func record(_ index: UInt64, _ error: WALError?) { storage.withLock { $0[index] = error } }
    var count: Int { storage.withLock { $0.count } }
    func error(for index: UInt64) -> WALError? { storage.withLock { $0[index] ?? nil } }
}
