import Foundation
import Synchronization
import Testing
import WAL

#if canImport(Glibc)
import Glibc
#endif

/// A process at its thread limit (`pthread_create` failing with EAGAIN) gets a typed error
/// from the log, never a trap, and loses nothing; snapshots go on without their threads.
@Suite struct ThreadStartFailureTests {
    /// Lets the first `successes` threads start, then fails as `pthread_create` does at a
    /// process's thread limit.
    final class LimitedStarter: Sendable {
        let successes: Int
        let attempts = Atomic<Int>(0)

        init(successes: Int) {
            self.successes = successes
        }

        var starter: ThreadStarter {
            ThreadStarter { [self] body in
                attempts.add(1, ordering: .relaxed).oldValue < successes ? ThreadStarter.system.start(body) : EAGAIN
            }
        }
    }

    @Test(arguments: [0, 1])
    func aLogWhoseThreadsCannotStartFailsTypedAndReleasesItsDirectory(threadsThatStart: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let written = entries(1...30)
        let log = try WriteAheadLog(directory: directory.path, fileSystem: PosixFileSystem(), options: smallOptions())
        try await log.append(written)
        await log.close()

        var limited = smallOptions()
        let limit = LimitedStarter(successes: threadsThatStart)
        limited.threadStarter = limit.starter
        #expect(throws: WALError.threadStartFailed(errno: EAGAIN)) {
            _ = try WriteAheadLog(directory: directory.path, fileSystem: PosixFileSystem(), options: limited)
        }
        #expect(limit.attempts.load(ordering: .relaxed) == threadsThatStart + 1, "it stops at the first thread that fails")

        // The directory lock was released and nothing was lost: the log opens again at once.
        let reopened = try WriteAheadLog(directory: directory.path, fileSystem: PosixFileSystem(), options: smallOptions())
        #expect(try allEntries(reopened) == written)
        try await reopened.append(entries(31...31))
        #expect(reopened.lastIndex == 31)
        await reopened.close()
    }

    @Test func snapshotsAreWrittenAndReadWithoutTheirThreads() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = SnapshotOptions()
        options.blockSize = 4096
        options.workerThreads = 2
        options.syncInterval = 8192
        let limit = LimitedStarter(successes: 0)
        options.threadStarter = limit.starter
        let store = try SnapshotStore(directory: directory.path, fileSystem: PosixFileSystem(), logFirstIndex: 1, options: options)
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 7) }
        _ = try await store.write(lastIndex: 10, term: 2, metadata: [7]) { writer in
            for start in stride(from: 0, to: data.count, by: 10_000) { try await writer.write(data[start..<start + 10_000]) }
        }
        #expect(limit.attempts.load(ordering: .relaxed) > 0, "the writer tried to start its threads")

        var read: [UInt8] = []
        let reader = try store.makeReader()
        while let chunk = try await reader.next() { read += chunk }
        #expect(read == data, "the jobs ran inline and the snapshot round-trips")
    }
}
